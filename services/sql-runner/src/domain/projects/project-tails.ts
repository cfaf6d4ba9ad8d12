import { MAX_PLAN_FILES, type ProjectTailRef, type ScriptFile } from '@taidon/contracts';
import { UnauthorizedError } from '@taidon/kit';
import type { VcsSyncClient } from '../../clients/vcs-sync.js';
import { SqlRunnerError } from '../../errors.js';

/**
 * Bytes of script text one project tail may carry: what a `{ files }` tail's
 * request body may (64 MiB), so a project is never a way around the request
 * limits; the planner's limits (PLAN_MAX_CHARS…) then apply as to any chain.
 */
export const PROJECT_TAIL_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Project tails (`{ project, ref? }`): the project's scripts, read from
 * vcs-sync for the account that runs, become a `{ files }` tail, so a
 * project's chain is planned, keyed and cached script by script like any
 * other (a layer at every script boundary). Without vcs-sync configured
 * (VCS_SYNC_URL) a project tail is refused with SQL_RUNNER_PROJECTS_UNAVAILABLE.
 */
export class ProjectTails {
  constructor(private readonly vcsSync: VcsSyncClient | undefined) {}

  /**
   * The files of `tail`'s project at its ref, as `ownerId` may read them (those not run are there for
   * includes); vcs-sync's refusals pass on as they are.
   */
  async resolve(tail: ProjectTailRef, ownerId: string | undefined): Promise<{ files: ScriptFile[] }> {
    if (!this.vcsSync) {
      throw new SqlRunnerError(
        'SQL_RUNNER_PROJECTS_UNAVAILABLE',
        'This sql-runner is not connected to vcs-sync (VCS_SYNC_URL): project tails cannot be run here.',
      );
    }
    if (ownerId === undefined)
      throw new UnauthorizedError('UNAUTHORIZED', 'A project tail needs the account it is read for.');
    const scripts = await this.vcsSync.scripts(ownerId, tail.project, tail.ref, {
      maxFiles: MAX_PLAN_FILES,
      maxBytes: PROJECT_TAIL_MAX_BYTES,
    });
    // A project with no script in init/ or seed/ (the empty template) builds the empty database.
    return { files: scripts.files };
  }
}
