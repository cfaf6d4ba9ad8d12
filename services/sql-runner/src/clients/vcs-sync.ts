import type { VcsSyncApi } from '@taidon/contracts';
import { ACCOUNT_HEADER, callService, type ServiceEndpoint } from '@taidon/kit';

/** sql-runner's view of vcs-sync: a project's scripts, read for the account that owns it. */
export class VcsSyncClient {
  constructor(private readonly endpoint: ServiceEndpoint) {}

  /**
   * The `.sql` files of `projectId` at `ref` (the latest commit without it),
   * in chain order, as `ownerId` sees them: vcs-sync checks the owner, so
   * another account's project is refused (404 VCS_SYNC_PROJECT_NOT_FOUND),
   * as are scripts past `bounds` (413 VCS_SYNC_SCRIPTS_TOO_LARGE).
   */
  scripts(
    ownerId: string,
    projectId: string,
    ref: string | undefined,
    bounds: { maxFiles: number; maxBytes: number },
  ): Promise<VcsSyncApi.ProjectScripts> {
    const query = new URLSearchParams({ maxFiles: String(bounds.maxFiles), maxBytes: String(bounds.maxBytes) });
    if (ref !== undefined) query.set('ref', ref);
    return callService<VcsSyncApi.ProjectScripts>(
      this.endpoint,
      `/projects/${encodeURIComponent(projectId)}/scripts?${query}`,
      { headers: { [ACCOUNT_HEADER]: ownerId } },
    );
  }
}
