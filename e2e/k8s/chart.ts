import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { toolPath } from './control-plane.js';

// Helpers of the chart's tests: helm and kubectl from the tools dir, run with
// argument arrays and a timeout, and the rendered chart as plain objects.

const execFileP = promisify(execFile);

/** The chart's directory. */
export const CHART_DIR = fileURLToPath(new URL('../../charts/taidon', import.meta.url));

/** One rendered Kubernetes object, as far as these tests read it. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  /** Whichever fields a kind has: the tests read them as they need. */
  spec?: any;
  [field: string]: any;
}

/** Runs a tool of the tools dir; rejects with its stderr when it exits non-zero. */
export async function tool(
  name: 'helm' | 'kubectl' | 'promtool',
  args: string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileP(toolPath(name), args, {
      cwd: options.cwd,
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
      // helm keeps its cache and config under HOME; a test must not read the developer's.
      env: { ...process.env, HELM_CACHE_HOME: '/tmp/taidon-helm/cache', HELM_CONFIG_HOME: '/tmp/taidon-helm/config' },
    });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${name} ${args.join(' ')} failed: ${e.stderr ?? ''}${e.stdout ?? ''}` || e.message);
  }
}

/** `helm template` of the chart with the given extra arguments (`-f`, `--set`, `--namespace`). */
export async function renderChart(args: string[] = []): Promise<{ text: string; objects: RenderedObject[] }> {
  const { stdout } = await tool('helm', ['template', 'taidon', CHART_DIR, ...args]);
  // Plain objects (client-node's loadAllYaml would turn them into its models, renaming fields such as `from`).
  const objects = parseAllDocuments(stdout)
    .map((doc) => doc.toJS() as RenderedObject | null)
    .filter((o): o is RenderedObject => !!o);
  return { text: stdout, objects };
}

/** The one object of a kind and name; throws when it is missing. */
export function find(objects: RenderedObject[], kind: string, name: string): RenderedObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered chart`);
  return found;
}
