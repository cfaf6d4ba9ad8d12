import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CHART_DIR, find, renderChart, tool } from './chart.js';
import { skipReason } from './control-plane.js';

// The chart's observability: the PrometheusRule it renders, unit-tested with
// `promtool test rules` (alerts.rules-test.yaml), and the Grafana dashboards
// it ships, valid JSON whose queries name only series the platform exports.

const toolsSkip = skipReason(['helm', 'promtool']);
if (toolsSkip) console.warn(`e2e/k8s/alerts skipped: ${toolsSkip}`);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Files that register the platform's series: the kit's (every service) and each service's own. */
const METRIC_SOURCES = [
  'backend/kit/src/metrics.ts',
  'backend/kit/src/connection-limits.ts',
  'services/env-manager/src/metrics.ts',
  'services/snapshot-cache/src/metrics.ts',
  'services/sql-runner/src/metrics.ts',
  'services/vcs-sync/src/metrics.ts',
];

/** Every series name the services export, histograms with their _bucket, _sum and _count series. */
async function exportedSeries(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of METRIC_SOURCES) {
    const source = await readFile(join(ROOT, file), 'utf8');
    for (const match of source.matchAll(/'(taidon_[a-z0-9_]+)'/g)) {
      const name = match[1] as string;
      names.add(name);
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    }
  }
  return names;
}

/** The taidon_ series a PromQL expression reads. */
function seriesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(taidon_[a-z0-9_]+)\b/g)].map((m) => m[1] as string);
}

interface Dashboard {
  uid: string;
  title: string;
  panels: { title: string; targets: { expr: string }[] }[];
}

describe.skipIf(toolsSkip !== undefined)('alerts and dashboards', () => {
  let work: string;
  let exported: Set<string>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'taidon-alerts-'));
    exported = await exportedSeries();
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the rendered PrometheusRule passes promtool check and its unit tests', async () => {
    const { objects } = await renderChart(['--set', 'metrics.prometheusRule.enabled=true']);
    const rule = find(objects, 'PrometheusRule', 'taidon');
    await writeFile(join(work, 'rendered-rules.yaml'), stringify({ groups: rule.spec.groups }));
    await copyFile(fileURLToPath(new URL('alerts.rules-test.yaml', import.meta.url)), join(work, 'rules-test.yaml'));
    const check = await tool('promtool', ['check', 'rules', 'rendered-rules.yaml'], { cwd: work });
    expect(check.stdout).toContain('SUCCESS: 8 rules found');
    const test = await tool('promtool', ['test', 'rules', 'rules-test.yaml'], { cwd: work });
    expect(`${test.stdout}${test.stderr}`).toContain('SUCCESS');
  });

  it('tests the rules the chart renders: a threshold changed in values makes a unit test fail', async () => {
    const { objects } = await renderChart([
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--set-json',
      'metrics.prometheusRule.cacheHitRatioMin=0.05',
    ]);
    const lax = join(work, 'lax');
    await mkdir(lax);
    await writeFile(
      join(lax, 'rendered-rules.yaml'),
      stringify({ groups: find(objects, 'PrometheusRule', 'taidon').spec.groups }),
    );
    await copyFile(fileURLToPath(new URL('alerts.rules-test.yaml', import.meta.url)), join(lax, 'rules-test.yaml'));
    await expect(tool('promtool', ['test', 'rules', 'rules-test.yaml'], { cwd: lax })).rejects.toThrow(
      /alertname: TaidonCacheHitRatioLow, time: 1h/,
    );
  });

  it('has an alert for each thing the design names, on series the services export', async () => {
    const { objects } = await renderChart(['--set', 'metrics.prometheusRule.enabled=true']);
    const rules = find(objects, 'PrometheusRule', 'taidon').spec.groups.flatMap(
      (g: { rules: { alert: string; expr: string }[] }) => g.rules,
    ) as { alert: string; expr: string }[];
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'TaidonAuthErrorSpike',
      'TaidonCacheHitRatioLow',
      'TaidonGitErrorSpike',
      'TaidonInstanceStartFailures',
      'TaidonInstanceStartLatencyRising',
      'TaidonInstanceStartSlow',
      'TaidonInstancesStuckNotReady',
      'TaidonLayerDiskNearFull',
    ]);
    for (const rule of rules) {
      const unknown = seriesIn(rule.expr).filter((name) => !exported.has(name));
      expect(unknown, rule.alert).toEqual([]);
    }
  });

  it('ships dashboards as valid JSON naming only exported series, one ConfigMap each', async () => {
    const dir = join(CHART_DIR, 'dashboards');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(['taidon-cache.json', 'taidon-instances.json', 'taidon-runs.json']);
    const read = new Set<string>();
    for (const file of files) {
      const dashboard = JSON.parse(await readFile(join(dir, file), 'utf8')) as Dashboard;
      expect(dashboard.uid).toBe(file.replace(/\.json$/, ''));
      expect(dashboard.panels.length).toBeGreaterThan(0);
      for (const panel of dashboard.panels) {
        expect(panel.targets.length, panel.title).toBeGreaterThan(0);
        for (const target of panel.targets) {
          const names = seriesIn(target.expr);
          expect(names.length, `${file}: ${panel.title}`).toBeGreaterThan(0);
          expect(
            names.filter((n) => !exported.has(n)),
            `${file}: ${panel.title}`,
          ).toEqual([]);
          for (const n of names) read.add(n.replace(/_(bucket|sum|count)$/, ''));
        }
      }
    }
    // The figures the issue asks for: runs, latency by source, cache, instances by state, layers and evictions.
    for (const name of [
      'taidon_runs_total',
      'taidon_run_state_ready_seconds',
      'taidon_instance_ready_seconds',
      'taidon_cache_lookups_total',
      'taidon_instances',
      'taidon_layers',
      'taidon_layer_bytes',
      'taidon_layer_evictions_total',
    ]) {
      expect(read, name).toContain(name);
    }
    const { objects } = await renderChart();
    const maps = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('taidon-dashboard-'));
    expect(maps.map((m) => m.metadata.labels?.grafana_dashboard)).toEqual(['1', '1', '1']);
    for (const map of maps) {
      for (const text of Object.values(map.data as Record<string, string>))
        expect(() => JSON.parse(text)).not.toThrow();
    }
  });
});
