import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Per-instance limits written into its cgroup. */
export interface CgroupLimits {
  memoryMaxBytes: number;
  pidsMax: number;
  /** `cpu.max` as "<quota|max> <period>". */
  cpuMax: string;
}

/** Where cgroup v2 can be used, and which of its features work here. */
export interface CgroupSupport {
  /** Parent of every instance cgroup, e.g. /sys/fs/cgroup/taidon; undefined when cgroups cannot be used. */
  parent: string | undefined;
  /** Controllers enabled for instance cgroups (subset of memory, pids, cpu). */
  controllers: string[];
  /** Why cgroups, or some controllers, are not used; empty when everything works. */
  reasons: string[];
}

const WANTED = ['memory', 'pids', 'cpu'] as const;

/**
 * Finds a writable cgroup v2 hierarchy: /sys/fs/cgroup on a unified host, or
 * /sys/fs/cgroup/unified on a hybrid one (where memory, pids and cpu are bound
 * to v1 and only the v2 freezer is available). Creates `<root>/<name>` and
 * enables what controllers the root delegates to it.
 */
export async function detectCgroupSupport(name: string, roots?: readonly string[]): Promise<CgroupSupport> {
  const candidates = roots ?? ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'];
  const root = candidates.find((r) => existsSync(join(r, 'cgroup.controllers')));
  if (!root) return { parent: undefined, controllers: [], reasons: ['no cgroup v2 hierarchy is mounted'] };
  const parent = join(root, name);
  try {
    await mkdir(parent, { recursive: true });
  } catch (error) {
    return {
      parent: undefined,
      controllers: [],
      reasons: [`cannot create ${parent}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`],
    };
  }
  const available = (await readFile(join(root, 'cgroup.controllers'), 'utf8')).split(/\s+/);
  const controllers: string[] = [];
  const reasons: string[] = [];
  for (const controller of WANTED) {
    if (!available.includes(controller)) {
      reasons.push(`controller ${controller} is not available in ${root} (bound to cgroup v1 or not delegated)`);
      continue;
    }
    try {
      await writeFile(join(root, 'cgroup.subtree_control'), `+${controller}`);
      await writeFile(join(parent, 'cgroup.subtree_control'), `+${controller}`);
      controllers.push(controller);
    } catch (error) {
      reasons.push(`cannot enable ${controller}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  if (!existsSync(join(parent, 'cgroup.freeze'))) reasons.push('cgroup.freeze is missing (kernel < 5.2)');
  return { parent, controllers, reasons };
}

/** Creates the instance's cgroup and writes the limits its enabled controllers allow. */
export async function createInstanceCgroup(
  support: CgroupSupport,
  instanceId: string,
  limits: CgroupLimits,
): Promise<string | undefined> {
  if (!support.parent) return undefined;
  const path = join(support.parent, instanceId);
  await mkdir(path, { recursive: true });
  if (support.controllers.includes('memory')) {
    await writeFile(join(path, 'memory.max'), String(limits.memoryMaxBytes));
    // Without swap limit a sandbox under memory.max would swap instead of failing.
    if (existsSync(join(path, 'memory.swap.max'))) await writeFile(join(path, 'memory.swap.max'), '0');
  }
  if (support.controllers.includes('pids')) await writeFile(join(path, 'pids.max'), String(limits.pidsMax));
  if (support.controllers.includes('cpu')) await writeFile(join(path, 'cpu.max'), limits.cpuMax);
  return path;
}

/** Moves processes into a cgroup; a process that exited meanwhile is skipped. */
export async function moveIntoCgroup(path: string, pids: readonly number[]): Promise<void> {
  for (const pid of pids) {
    try {
      await writeFile(join(path, 'cgroup.procs'), String(pid));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}

/** Freezes (or thaws) every process of the cgroup and waits until the kernel reports it done. */
export async function setCgroupFrozen(path: string, frozen: boolean, timeoutMs = 5000): Promise<void> {
  await writeFile(join(path, 'cgroup.freeze'), frozen ? '1' : '0');
  const want = `frozen ${frozen ? 1 : 0}`;
  const deadline = Date.now() + timeoutMs;
  while (!(await readFile(join(path, 'cgroup.events'), 'utf8')).includes(want)) {
    if (Date.now() > deadline) throw new Error(`cgroup ${path} did not reach "${want}" within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Kills every process of the cgroup at once (cgroup.kill, kernel ≥ 5.14); false where unsupported. */
export async function killCgroup(path: string): Promise<boolean> {
  if (!existsSync(join(path, 'cgroup.kill'))) return false;
  await writeFile(join(path, 'cgroup.kill'), '1');
  return true;
}

/** Removes an instance cgroup once its processes are gone; retries briefly while they exit. */
export async function removeCgroup(path: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      await rmdir(path);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw error;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
