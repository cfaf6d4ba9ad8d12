import { join } from 'node:path';
import { auditLogConfigSpec, loadAuditLogConfig } from '@taidon/audit-log';
import { envManagerConfigSpec, loadEnvManagerConfig } from '@taidon/env-manager';
import { exercisesConfigSpec, loadExercisesConfig } from '@taidon/exercises';
import { gatewayConfigSpec, loadGatewayConfig } from '@taidon/gateway';
import { idpConfigSpec, loadIdpConfig } from '@taidon/idp';
import { loadSnapshotCacheConfig, snapshotCacheConfigSpec } from '@taidon/snapshot-cache';
import { loadSqlRunnerConfig, sqlRunnerConfigSpec } from '@taidon/sql-runner';
import { loadUserProfileConfig, userProfileConfigSpec } from '@taidon/user-profile';
import { loadVcsSyncConfig, vcsSyncConfigSpec } from '@taidon/vcs-sync';
import { describe, expect, it } from 'vitest';
import { CHART_DIR, type RenderedObject, renderChart } from './chart.js';
import { skipReason } from './control-plane.js';

// Each service's container, as the chart renders it, gets an environment its
// own config loader accepts (ADR 0025: a service is configured only by its
// environment): every required variable set, every value valid, no variable
// the service does not read (a typo would be silently ignored). Secrets are
// resolved from the Secrets the chart renders.

const skip = skipReason(['helm']);
if (skip) console.warn(`e2e/k8s/chart-config skipped: ${skip}`);

type Loader = (env: NodeJS.ProcessEnv) => unknown;
const SERVICES: Record<string, { load: Loader; spec: object; entry: string }> = {
  gateway: { load: loadGatewayConfig, spec: gatewayConfigSpec, entry: 'backend/gateway/dist/server.js' },
  idp: { load: loadIdpConfig, spec: idpConfigSpec, entry: 'services/idp/dist/server.js' },
  'user-profile': {
    load: loadUserProfileConfig,
    spec: userProfileConfigSpec,
    entry: 'services/user-profile/dist/server.js',
  },
  'audit-log': { load: loadAuditLogConfig, spec: auditLogConfigSpec, entry: 'services/audit-log/dist/server.js' },
  'vcs-sync': { load: loadVcsSyncConfig, spec: vcsSyncConfigSpec, entry: 'services/vcs-sync/dist/server.js' },
  'sql-runner': { load: loadSqlRunnerConfig, spec: sqlRunnerConfigSpec, entry: 'services/sql-runner/dist/server.js' },
  'env-manager': {
    load: loadEnvManagerConfig,
    spec: envManagerConfigSpec,
    entry: 'services/env-manager/dist/server.js',
  },
  'snapshot-cache': {
    load: loadSnapshotCacheConfig,
    spec: snapshotCacheConfigSpec,
    entry: 'services/snapshot-cache/dist/server.js',
  },
  exercises: { load: loadExercisesConfig, spec: exercisesConfigSpec, entry: 'services/exercises/dist/server.js' },
};

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}

/** The container's environment as the kubelet would give it, Secrets read from the rendered ones. */
function environment(env: EnvVar[], objects: RenderedObject[]): NodeJS.ProcessEnv {
  const secrets = new Map(objects.filter((o) => o.kind === 'Secret').map((s) => [s.metadata.name, s]));
  const result: NodeJS.ProcessEnv = {};
  for (const variable of env) {
    if (variable.value !== undefined) {
      result[variable.name] = variable.value;
    } else if (variable.valueFrom?.secretKeyRef) {
      const { name, key } = variable.valueFrom.secretKeyRef;
      const data = secrets.get(name)?.data?.[key] as string | undefined;
      if (data === undefined) throw new Error(`${variable.name}: the chart renders no Secret ${name} with ${key}`);
      result[variable.name] = Buffer.from(data, 'base64').toString();
    } else if (variable.valueFrom?.fieldRef) {
      result[variable.name] = `field:${variable.valueFrom.fieldRef.fieldPath}`;
    }
  }
  return result;
}

describe.skipIf(skip !== undefined)('charts/taidon, each service configured', () => {
  it.each([
    ['the default values', [] as string[]],
    ['the development values', ['-f', join(CHART_DIR, 'values-development.yaml')]],
    ['the production values', ['-f', join(CHART_DIR, 'values-production.yaml')]],
  ])('gives every service an environment its config loader accepts, with %s', async (_name, args) => {
    const { objects } = await renderChart(args);
    const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');
    expect(workloads).toHaveLength(Object.keys(SERVICES).length);
    for (const workload of workloads) {
      const component = workload.metadata.labels?.['app.kubernetes.io/component'] as string;
      const service = SERVICES[component];
      expect(service, component).toBeDefined();
      if (!service) continue;
      const container = workload.spec.template.spec.containers[0];
      expect(container.args).toEqual(['node', service.entry]);
      const env = environment(container.env as EnvVar[], objects);
      expect(() => service.load(env), component).not.toThrow();
      const known = new Set(Object.keys(service.spec));
      expect(
        Object.keys(env).filter((name) => !known.has(name)),
        component,
      ).toEqual([]);
    }
  });

  it("passes env-manager's resync interval, orphan clone grace and template wait from the values, within its config's bounds", async () => {
    const envOf = async (args: string[]) => {
      const { objects } = await renderChart(args);
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'taidon-env-manager');
      return environment(deployment?.spec.template.spec.containers[0].env as EnvVar[], objects);
    };
    expect(await envOf([])).toMatchObject({
      SANDBOX_RESYNC_INTERVAL_MS: '30000',
      SANDBOX_ORPHAN_CLONE_GRACE_SECONDS: '600',
      SANDBOX_TEMPLATE_WAIT_MS: '10000',
    });
    // Large values stay integers (a float64 from YAML would print as 3.6e+06, which the loader refuses).
    const set = await envOf([
      '--set',
      'sandbox.resyncIntervalMs=3600000',
      '--set',
      'sandbox.orphanCloneGraceSeconds=604800',
      '--set',
      'sandbox.templateWaitMs=120000',
    ]);
    expect(set).toMatchObject({
      SANDBOX_RESYNC_INTERVAL_MS: '3600000',
      SANDBOX_ORPHAN_CLONE_GRACE_SECONDS: '604800',
      SANDBOX_TEMPLATE_WAIT_MS: '120000',
    });
    expect(loadEnvManagerConfig(set)).toMatchObject({
      SANDBOX_RESYNC_INTERVAL_MS: 3_600_000,
      SANDBOX_ORPHAN_CLONE_GRACE_SECONDS: 604_800,
      SANDBOX_TEMPLATE_WAIT_MS: 120_000,
    });
    // 0 does not wait, and is passed as such (not dropped as an empty value).
    expect(await envOf(['--set', 'sandbox.templateWaitMs=0'])).toMatchObject({ SANDBOX_TEMPLATE_WAIT_MS: '0' });
    // What the service's config would refuse at start, the chart's schema refuses at install.
    for (const bad of [
      'sandbox.resyncIntervalMs=999',
      'sandbox.resyncIntervalMs=3600001',
      'sandbox.orphanCloneGraceSeconds=0',
      'sandbox.orphanCloneGraceSeconds=604801',
      'sandbox.orphanCloneGraceSeconds=1.5',
      'sandbox.templateWaitMs=-1',
      'sandbox.templateWaitMs=120001',
      'sandbox.templateWaitMs=2.5',
    ])
      await expect(renderChart(['--set', bad]), bad).rejects.toThrow(
        /sandbox\/(resyncIntervalMs|orphanCloneGraceSeconds|templateWaitMs)/,
      );
  });

  it('gives the migration Job the superuser URL and every service database URL, nothing else secret', async () => {
    const { objects } = await renderChart();
    const job = objects.find((o) => o.kind === 'Job' && o.metadata.name === 'taidon-migrate');
    const env = job?.spec.template.spec.containers[0].env as EnvVar[];
    expect(env.map((v) => v.name).sort()).toEqual(
      [
        'AUDIT_LOG_DATABASE_URL',
        'CONTROL_PLANE_SUPERUSER_URL',
        'ENV_MANAGER_DATABASE_URL',
        'EXERCISES_DATABASE_URL',
        'IDP_DATABASE_URL',
        'LOG_LEVEL',
        'SNAPSHOT_CACHE_DATABASE_URL',
        'SQL_RUNNER_DATABASE_URL',
        'USER_PROFILE_DATABASE_URL',
        'VCS_SYNC_DATABASE_URL',
      ].sort(),
    );
    expect(env.find((v) => v.name === 'CONTROL_PLANE_SUPERUSER_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: 'postgresql-superuser',
      key: 'uri',
    });
    // Each service sees its own database URL only (the gateway has none).
    for (const workload of objects.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet')) {
      const urls = (workload.spec.template.spec.containers[0].env as EnvVar[]).filter((v) =>
        v.name.endsWith('_DATABASE_URL'),
      );
      expect(urls, workload.metadata.name).toHaveLength(workload.metadata.name === 'taidon-gateway' ? 0 : 1);
    }
  });
});
