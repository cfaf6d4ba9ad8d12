import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { VcsSyncError } from '../errors.js';
import { INCOMING_REF } from '../git/remote.js';
import { Repository } from '../git/repository.js';
import {
  countProjects,
  deleteProjectRow,
  insertProject,
  listProjects,
  lockOwner,
  otherProjectsBytes,
  type ProjectRow,
  updateSize,
} from '../store/projects.js';
import { upsertRemote } from '../store/remotes.js';
import { checkRemoteUrl } from './remote-url.js';
import { checkBranch, fetchChecked } from './sync.js';
import { copyTemplate, EMPTY_TEMPLATE, templateFiles } from './templates.js';
import { authorOf, type Caller, openProject, sizeOnDisk, type Workspace } from './workspace.js';

/** The template column of a project imported from a remote. */
export const IMPORTED = 'import';

/** Where a new project's files come from when it is imported: a remote, its token and branch (default: the remote's HEAD). */
export interface ImportSource {
  url: string;
  token?: string | undefined;
  branch?: string | undefined;
}

/** A project as callers see it. */
export type Project = Omit<ProjectRow, 'ownerId'>;

function view(row: ProjectRow): Project {
  const { ownerId: _owner, ...project } = row;
  return project;
}

/** How many projects the caller's role may have. */
export function projectLimitOf(ws: Workspace, caller: Caller): number {
  return caller.role === 'anonymous' ? ws.limits.maxProjectsAnonymous : ws.limits.maxProjects;
}

/**
 * Creates a project from a template: the row (the account's creations one at
 * a time, so the count cap holds under concurrency), then a Git working tree
 * with the template's files as its first commit, authored by the account.
 * Anything that fails leaves neither row nor directory.
 */
export async function createProject(
  ws: Workspace,
  caller: Caller,
  request: { name: string; template?: string | undefined; import?: ImportSource | undefined },
): Promise<Project> {
  const source = request.import;
  if (source && request.template !== undefined) {
    throw new VcsSyncError('VCS_SYNC_IMPORT_WITH_TEMPLATE', 'Give a template or an import, not both.');
  }
  const importUrl = source ? checkRemoteUrl(source.url, ws.remotes.policy) : undefined;
  const importBranch = source?.branch === undefined ? undefined : checkBranch(source.branch);
  if (importUrl) await ws.remotes.git.checkAddress(importUrl);
  if (source?.token !== undefined && !ws.remotes.sealer.enabled) ws.remotes.sealer.assertEnabled();
  const template = source ? IMPORTED : (request.template ?? EMPTY_TEMPLATE);
  const files = source ? [] : await templateFiles(ws.templatesDir, template);
  if (files.length > ws.limits.projectMaxFiles) {
    throw new VcsSyncError('VCS_SYNC_TOO_MANY_FILES', 'The template has more files than a project may hold.', {
      details: { limit: ws.limits.projectMaxFiles, wouldBe: files.length },
    });
  }
  return ws.gate.run(caller.accountId, async () => {
    const client = await ws.pool.connect();
    let dir: string | undefined;
    try {
      await client.query('BEGIN');
      await lockOwner(client, caller.accountId);
      const limit = projectLimitOf(ws, caller);
      if ((await countProjects(client, caller.accountId)) >= limit) {
        throw new VcsSyncError('VCS_SYNC_PROJECT_LIMIT', `You may have ${limit} projects.`, { details: { limit } });
      }
      const row = await insertProject(client, { ownerId: caller.accountId, name: request.name.trim(), template }).catch(
        (error: { code?: string; constraint?: string }) => {
          if (error.code === '23505' && error.constraint === 'projects_owner_name') {
            throw new VcsSyncError('VCS_SYNC_PROJECT_NAME_TAKEN', 'You already have a project with this name.');
          }
          throw error;
        },
      );
      dir = join(ws.projectsDir, row.id);
      await mkdir(dir, { mode: 0o750 });
      const repo = new Repository(ws.git, dir);
      await repo.init();
      if (source && importUrl) {
        await importInto(ws, caller, client, row.id, repo, { ...source, url: importUrl, branch: importBranch });
      } else {
        await copyTemplate(ws.templatesDir, template, files, dir);
        if (files.length > 0) await repo.stage(['.']);
        await repo.commit(`Create the project from the ${template} template`, authorOf(caller), true);
      }
      const sizeBytes = await sizeOnDisk(dir);
      const quota = await ws.quotas.storageBytes(caller.accountId, caller.role);
      const total = (await otherProjectsBytes(client, caller.accountId, row.id)) + sizeBytes;
      if (total > quota) {
        throw new VcsSyncError('VCS_SYNC_STORAGE_QUOTA_EXCEEDED', 'Your projects would take more than your quota.', {
          details: { limit: quota, wouldBe: total },
        });
      }
      await updateSize(client, row.id, sizeBytes);
      await client.query('COMMIT');
      return view({ ...row, sizeBytes });
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        // The connection broke: the transaction is gone with it.
      });
      if (dir) await rm(dir, { recursive: true, force: true });
      throw error;
    } finally {
      client.release();
    }
  });
}

/**
 * Fills a new project from a remote: its branch (the remote's HEAD unless
 * named) fetched and checked like any pull (checkIncomingTree, size, quota),
 * its history kept as it is, and the remote recorded (token sealed) in the
 * creating transaction, so a later pull or push needs no setup.
 */
async function importInto(
  ws: Workspace,
  caller: Caller,
  client: pg.PoolClient,
  projectId: string,
  repo: Repository,
  source: ImportSource & { url: string },
): Promise<void> {
  const remote = { url: source.url, token: source.token };
  let branch = source.branch;
  if (branch === undefined) {
    branch = (await ws.remotes.git.defaultBranch(repo.dir, remote))?.branch;
  } else if (!(await ws.remotes.git.branchCommit(repo.dir, remote, branch))) {
    branch = undefined;
  }
  if (branch === undefined) {
    throw new VcsSyncError('VCS_SYNC_REMOTE_BRANCH_NOT_FOUND', 'The remote has no such branch (or no branch at all).', {
      details: { branch: source.branch ?? null },
    });
  }
  const fetched = await fetchChecked(ws, caller, projectId, repo, remote, branch, 0);
  await repo.checkoutTree(fetched);
  await repo.git.run(repo.dir, ['update-ref', 'refs/heads/main', fetched]);
  await repo.git.run(repo.dir, ['update-ref', '-d', INCOMING_REF]);
  const tokenSealed = source.token === undefined ? null : ws.remotes.sealer.seal(source.token, projectId);
  await upsertRemote(client, { projectId, url: source.url, branch, tokenSealed });
}

/** The caller's projects, oldest first. */
export async function listOwnProjects(ws: Workspace, caller: Caller): Promise<Project[]> {
  return (await listProjects(ws.pool, caller.accountId)).map(view);
}

/** One of the caller's projects. */
export async function getOwnProject(ws: Workspace, caller: Caller, projectId: string): Promise<Project> {
  return view((await openProject(ws, caller, projectId)).row);
}

/**
 * Deletes the caller's project with its history: the directory is first
 * moved aside (one rename), then the row goes, then the moved directory; a
 * failure before the row is gone moves it back, so a project is never half deleted.
 */
export async function deleteProject(ws: Workspace, caller: Caller, projectId: string): Promise<Project> {
  return ws.gate.run(caller.accountId, async () => {
    const { row } = await openProject(ws, caller, projectId);
    return ws.locks.run(row.id, async () => {
      const { row: current, repo } = await openProject(ws, caller, projectId);
      const trash = join(ws.projectsDir, '.trash');
      await mkdir(trash, { recursive: true, mode: 0o700 });
      const aside = join(trash, `${current.id}-${randomBytes(4).toString('hex')}`);
      await rename(repo.dir, aside);
      try {
        await deleteProjectRow(ws.pool, caller.accountId, current.id);
      } catch (error) {
        await rename(aside, repo.dir);
        throw error;
      }
      await rm(aside, { recursive: true, force: true });
      return view(current);
    });
  });
}
