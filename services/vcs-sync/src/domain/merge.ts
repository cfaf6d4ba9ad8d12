import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LimitError, VcsSyncError } from '../errors.js';
import { INCOMING_REF } from '../git/remote.js';
import type { Repository } from '../git/repository.js';
import { authorOf, type Caller, changeProject, readProject, type Workspace } from './workspace.js';

/** The ref that keeps the remote's commit of a pull waiting for its conflicts to be resolved. */
export const MERGE_REF = 'refs/taidon/merge-theirs';

/** What a pull (or a resolved merge) did. */
export interface PullResult {
  status: 'up-to-date' | 'fast-forward' | 'merged';
  /** The project's latest commit after it. */
  commit: string;
  /** The remote's commit that was pulled. */
  theirs: string;
}

/** One file both sides changed: its text at the merge base, here (ours) and on the remote (theirs); null where absent. */
export interface ConflictFile {
  path: string;
  base: string | null;
  ours: string | null;
  theirs: string | null;
  /** True when the texts were left out to keep the answer within its bound (read them with the file API at the commits). */
  omitted?: boolean;
}

/** A pull waiting for its conflicts: the commits met and the files in conflict. */
export interface PendingMerge {
  ours: string;
  theirs: string;
  base: string | null;
  files: ConflictFile[];
}

/** How the caller resolves one conflicting file: one side whole, or the merged text they wrote. */
export type Resolution = { path: string; take: 'ours' | 'theirs' } | { path: string; text: string };

interface Stages {
  base?: string;
  ours?: string;
  theirs?: string;
}

/** Merges two commits without touching the index or the working tree (`merge-tree --write-tree`). */
async function mergeTrees(repo: Repository, ours: string, theirs: string) {
  const outcome = await repo.git.call(
    repo.dir,
    ['merge-tree', '--write-tree', '-z', '--no-messages', '--allow-unrelated-histories', ours, theirs],
    { allowExitCodes: [1] },
  );
  const fields = outcome.stdout.split('\0');
  const tree = fields[0] ?? '';
  const conflicts = new Map<string, Stages>();
  for (const field of fields.slice(1)) {
    const match = /^(\d{6}) ([0-9a-f]+) ([123])\t([\s\S]*)$/.exec(field);
    if (!match) break;
    const [, , id, stage, path] = match as unknown as [string, string, string, string, string];
    const stages = conflicts.get(path) ?? {};
    stages[stage === '1' ? 'base' : stage === '2' ? 'ours' : 'theirs'] = id;
    conflicts.set(path, stages);
  }
  return { clean: outcome.ok, tree, conflicts };
}

/** Makes `commit` the project's latest: index and working tree to its tree, then the branch, if still at `from`. */
async function advanceTo(repo: Repository, commit: string, from: string): Promise<void> {
  await repo.checkoutTree(commit);
  await repo.git.run(repo.dir, ['update-ref', 'refs/heads/main', commit, from]);
}

/** Commits `tree` with both sides as parents, authored by the caller. */
async function mergeCommit(
  repo: Repository,
  caller: Caller,
  tree: string,
  ours: string,
  theirs: string,
  message: string,
) {
  const author = authorOf(caller);
  const out = await repo.git.run(repo.dir, ['commit-tree', tree, '-p', ours, '-p', theirs, '-m', message], {
    env: { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email },
  });
  return out.trim();
}

/** Forgets a pull that waited for a resolution (a new pull replaces it). */
export async function clearPendingMerge(repo: Repository): Promise<void> {
  await repo.git.run(repo.dir, ['update-ref', '-d', MERGE_REF]);
}

/**
 * Brings `theirs` into the project at `ours`: nothing when it is already in
 * the history, a fast-forward when ours is behind, a merge commit when the
 * sides changed different files. When they changed the same ones, the
 * working tree and the branch stay as they are, `theirs` is kept under
 * MERGE_REF, and 409 `VCS_SYNC_PULL_CONFLICT` says what conflicts.
 */
export async function mergeInto(
  repo: Repository,
  caller: Caller,
  ours: string,
  theirs: string,
  message: string,
): Promise<PullResult> {
  const is = async (a: string, b: string) =>
    (await repo.git.call(repo.dir, ['merge-base', '--is-ancestor', a, b], { allowExitCodes: [1] })).ok;
  try {
    if (await is(theirs, ours)) return { status: 'up-to-date', commit: ours, theirs };
    if (await is(ours, theirs)) {
      await advanceTo(repo, theirs, ours);
      return { status: 'fast-forward', commit: theirs, theirs };
    }
    const merged = await mergeTrees(repo, ours, theirs);
    if (merged.clean) {
      const commit = await mergeCommit(repo, caller, merged.tree, ours, theirs, message);
      await advanceTo(repo, commit, ours);
      return { status: 'merged', commit, theirs };
    }
    await repo.git.run(repo.dir, ['update-ref', MERGE_REF, theirs]);
    const pending = await describe(repo, ours, theirs, merged.conflicts);
    throw new VcsSyncError(
      'VCS_SYNC_PULL_CONFLICT',
      `The remote and this project both changed ${pending.files.length} file(s); nothing was changed.`,
      { details: { ...pending } },
    );
  } finally {
    await repo.git.run(repo.dir, ['update-ref', '-d', INCOMING_REF]);
  }
}

/** Total bytes of conflict texts one answer carries; past it, files are listed with `omitted: true`. */
const CONFLICT_TEXT_BUDGET_BYTES = 8 * 1024 * 1024;

async function describe(
  repo: Repository,
  ours: string,
  theirs: string,
  conflicts: Map<string, Stages>,
): Promise<PendingMerge> {
  const base = await repo.git.call(repo.dir, ['merge-base', ours, theirs], { allowExitCodes: [1] });
  let budget = CONFLICT_TEXT_BUDGET_BYTES;
  const files: ConflictFile[] = [];
  for (const [path, stages] of [...conflicts].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const texts: (string | null)[] = [];
    let omitted = false;
    for (const id of [stages.base, stages.ours, stages.theirs]) {
      if (id === undefined || omitted) {
        texts.push(null);
        continue;
      }
      const size = Number((await repo.git.run(repo.dir, ['cat-file', '-s', id])).trim());
      if (size > budget) {
        omitted = true;
        texts.push(null);
        continue;
      }
      budget -= size;
      texts.push(await repo.blob(id));
    }
    const [b = null, o = null, t = null] = texts;
    files.push(
      omitted ? { path, base: null, ours: null, theirs: null, omitted } : { path, base: b, ours: o, theirs: t },
    );
  }
  return { ours, theirs, base: base.ok ? base.stdout.trim() : null, files };
}

/** The commit a pending merge waits to bring in, or 409 when none waits. */
async function pendingTheirs(repo: Repository): Promise<string> {
  const outcome = await repo.git.call(repo.dir, ['rev-parse', '--verify', '--quiet', `${MERGE_REF}^{commit}`], {
    allowExitCodes: [1, 128],
  });
  if (!outcome.ok) {
    throw new VcsSyncError('VCS_SYNC_NO_PENDING_MERGE', 'No pull waits for its conflicts to be resolved.');
  }
  return outcome.stdout.trim();
}

/** The pull waiting for a resolution, its conflicts computed against the project's latest commit. */
export function pendingMerge(ws: Workspace, caller: Caller, projectId: string): Promise<PendingMerge> {
  return readProject(ws, caller, projectId, async (_row, repo) => {
    const theirs = await pendingTheirs(repo);
    const ours = await repo.head();
    return describe(repo, ours, theirs, (await mergeTrees(repo, ours, theirs)).conflicts);
  });
}

/** Drops the pull waiting for a resolution: the project stays as it is. */
export function abortMerge(ws: Workspace, caller: Caller, projectId: string): Promise<{ theirs: string }> {
  return changeProject(ws, caller, projectId, async (_row, repo) => {
    const theirs = await pendingTheirs(repo);
    await clearPendingMerge(repo);
    return { theirs };
  });
}

/**
 * Ends a pull that met conflicts with the caller's resolutions, one per
 * conflicting file (a side taken whole, or the merged text written): one
 * merge commit with both parents, then the working tree. The conflicts are
 * computed again against the project's latest commit, so a save made since
 * the pull is merged too; resolutions that do not match them are refused
 * with `missing` and `unexpected`, and nothing changes.
 */
export function resolveMerge(
  ws: Workspace,
  caller: Caller,
  projectId: string,
  resolutions: readonly Resolution[],
): Promise<PullResult> {
  for (const resolution of resolutions) {
    if ('text' in resolution && Buffer.byteLength(resolution.text) > ws.limits.fileMaxBytes) {
      throw new LimitError('VCS_SYNC_FILE_TOO_LARGE', `${resolution.path} is larger than a file may be.`, {
        limit: ws.limits.fileMaxBytes,
        wouldBe: Buffer.byteLength(resolution.text),
      });
    }
  }
  return changeProject(ws, caller, projectId, async (_row, repo) => {
    const theirs = await pendingTheirs(repo);
    const ours = await repo.head();
    const merged = await mergeTrees(repo, ours, theirs);
    const given = new Map(resolutions.map((r) => [r.path, r]));
    const missing = [...merged.conflicts.keys()].filter((path) => !given.has(path));
    const unexpected = [...given.keys()].filter((path) => !merged.conflicts.has(path));
    if (missing.length > 0 || unexpected.length > 0 || given.size !== resolutions.length) {
      throw new VcsSyncError(
        'VCS_SYNC_MERGE_UNRESOLVED',
        'Give one resolution for each conflicting file, and only those.',
        {
          details: { missing, unexpected },
        },
      );
    }
    const index = join(repo.dir, '.git', `vcs-sync-merge-${randomBytes(6).toString('hex')}.index`);
    const env = { GIT_INDEX_FILE: index };
    try {
      await repo.git.run(repo.dir, ['read-tree', merged.tree], { env });
      for (const resolution of resolutions) {
        const stages = merged.conflicts.get(resolution.path) as Stages;
        const id =
          'text' in resolution
            ? (await repo.git.run(repo.dir, ['hash-object', '-w', '--stdin'], { input: resolution.text })).trim()
            : resolution.take === 'ours'
              ? stages.ours
              : stages.theirs;
        const args =
          id === undefined
            ? ['update-index', '--force-remove', '--', resolution.path]
            : ['update-index', '--add', '--cacheinfo', `100644,${id},${resolution.path}`];
        await repo.git.run(repo.dir, args, { env });
      }
      const tree = (await repo.git.run(repo.dir, ['write-tree'], { env })).trim();
      const commit = await mergeCommit(repo, caller, tree, ours, theirs, 'Merge the remote, conflicts resolved');
      await advanceTo(repo, commit, ours);
      await clearPendingMerge(repo);
      return { status: 'merged', commit, theirs };
    } finally {
      await rm(index, { force: true });
    }
  });
}
