import { MAX_PACK_TEXT_BYTES, type VcsSyncApi } from '@taidon/contracts';
import { ACCOUNT_HEADER, callService, ROLE_HEADER, type ServiceEndpoint } from '@taidon/kit';
import { MAX_PACK_FILES } from '../domain/packs/files.js';

/** The client side of vcs-sync's `GET /projects/:id/exercise-files`, acting for one account (whose project it must be). */
export interface ProjectExerciseFiles {
  read(
    projectId: string,
    ref: string | undefined,
    as: { accountId: string; role: string; requestId?: string },
  ): Promise<VcsSyncApi.ProjectExerciseFiles>;
}

/**
 * vcs-sync's exercise files over HTTP, bounded as a pack is (MAX_PACK_FILES files, MAX_PACK_TEXT_BYTES in
 * all, refused by vcs-sync from the tree before any is read). Its refusals come back with their own codes
 * (404 VCS_SYNC_PROJECT_NOT_FOUND, 413 VCS_SYNC_SCRIPTS_TOO_LARGE, 422 VCS_SYNC_COMMIT_NOT_FOUND).
 */
export function vcsSyncExerciseFiles(endpoint: ServiceEndpoint): ProjectExerciseFiles {
  return {
    read(projectId, ref, as) {
      const query = new URLSearchParams({ maxFiles: String(MAX_PACK_FILES), maxBytes: String(MAX_PACK_TEXT_BYTES) });
      if (ref) query.set('ref', ref);
      return callService<VcsSyncApi.ProjectExerciseFiles>(
        endpoint,
        `/projects/${encodeURIComponent(projectId)}/exercise-files?${query}`,
        {
          headers: { [ACCOUNT_HEADER]: as.accountId, [ROLE_HEADER]: as.role },
          ...(as.requestId ? { requestId: as.requestId } : {}),
        },
      );
    },
  };
}
