import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { VcsSyncError } from '../errors.js';
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
import { copyTemplate, EMPTY_TEMPLATE, templateFiles } from './templates.js';
import { authorOf, type Caller, openProject, sizeOnDisk, type Workspace } from './workspace.js';

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
  request: { name: string; template?: string | undefined },
): Promise<Project> {
  const template = request.template ?? EMPTY_TEMPLATE;
  const files = await templateFiles(ws.templatesDir, template);
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
      await copyTemplate(ws.templatesDir, template, files, dir);
      if (files.length > 0) await repo.stage(['.']);
      await repo.commit(`Create the project from the ${template} template`, authorOf(caller), true);
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
