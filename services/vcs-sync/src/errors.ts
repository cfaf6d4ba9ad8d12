import { catalogueErrorClass, type ErrorCatalogue, KIT_ERROR_CATALOGUE } from '@taidon/kit';

/**
 * Every code vcs-sync answers with, its status and its meaning: the error
 * classes below, the README's errors table and test/readme.test.ts all read it.
 */
export const VCS_SYNC_ERROR_CODES = {
  ...KIT_ERROR_CATALOGUE,
  VCS_SYNC_ACCOUNT_REQUIRED: {
    status: 400,
    meaning: 'The request names no account (`x-taidon-account`); every project route acts for one.',
  },
  VCS_SYNC_PROJECT_NOT_FOUND: {
    status: 404,
    meaning: "The account has no project with this id; another account's project answers the same.",
  },
  VCS_SYNC_FILE_NOT_FOUND: { status: 404, meaning: 'The project has no file at this path (at this commit).' },
  VCS_SYNC_COMMIT_NOT_FOUND: {
    // 422, not 404: the project (the resource) exists; the commit the request names is what is wrong.
    status: 422,
    meaning: "The commit the request names is not a commit of this project's history (or not a hex object id).",
  },
  VCS_SYNC_TEMPLATE_NOT_FOUND: { status: 422, meaning: 'No project template has this name.' },
  VCS_SYNC_PROJECT_NAME_TAKEN: { status: 409, meaning: 'The account already has a project with this name.' },
  VCS_SYNC_PROJECT_LIMIT: {
    status: 409,
    meaning: 'The account has as many projects as its role allows (`limit` says how many); delete one first.',
  },
  VCS_SYNC_PATH_INVALID: {
    status: 422,
    meaning:
      'The path is empty, longer than 512 characters, has an empty segment, a `.` segment, a backslash or a control character.',
  },
  VCS_SYNC_PATH_TRAVERSAL: { status: 422, meaning: 'The path has a `..` segment; paths stay inside the project.' },
  VCS_SYNC_PATH_ABSOLUTE: { status: 422, meaning: 'The path starts with `/`; paths are relative to the project.' },
  VCS_SYNC_PATH_GIT_DIR: {
    status: 422,
    meaning: 'The path has a `.git` segment (in any case); Git’s own files are not project files.',
  },
  VCS_SYNC_SYMLINK: {
    status: 422,
    meaning: 'The path is, or passes through, a symbolic link; vcs-sync never follows, writes or restores one.',
  },
  VCS_SYNC_PATH_CONFLICT: {
    status: 409,
    meaning:
      'A file stands where the path needs a directory, a directory where it needs a file, or a rename target exists.',
  },
  VCS_SYNC_VERSION_REQUIRED: {
    status: 428,
    meaning:
      'A write over an existing file carries no `If-Match` with the version it was based on (the file’s `ETag`); `currentVersion` says what is there.',
  },
  VCS_SYNC_VERSION_MISMATCH: {
    status: 412,
    meaning:
      'The file changed since the version in `If-Match` (or exists although `If-None-Match: *` said it must not); nothing was written, `currentVersion` says what is there now.',
  },
  VCS_SYNC_FILE_TOO_LARGE: {
    status: 413,
    meaning: 'The file is larger than VCS_SYNC_FILE_MAX_BYTES (`limitBytes` says how large it may be).',
  },
  VCS_SYNC_PROJECT_TOO_LARGE: {
    status: 413,
    meaning: 'The change would make the project larger than VCS_SYNC_PROJECT_MAX_BYTES on disk.',
  },
  VCS_SYNC_TOO_MANY_FILES: {
    status: 413,
    meaning: 'The change would give the project more files than VCS_SYNC_PROJECT_MAX_FILES.',
  },
  VCS_SYNC_STORAGE_QUOTA_EXCEEDED: {
    status: 413,
    meaning: "The change would put the account's projects past its `storageBytes` quota (user-profile).",
  },
  VCS_SYNC_SCRIPTS_TOO_LARGE: {
    status: 413,
    meaning:
      "The project's `.sql` files at the commit are more (`limit: 'files'`) or larger together (`limit: 'bytes'`) than a chain may be built from (`max`, `wouldBe`); none was read.",
  },
  VCS_SYNC_UNSAFE_TREE: {
    status: 422,
    meaning: 'The commit holds a symbolic link or a submodule; it is not restored.',
  },
  VCS_SYNC_BUSY: {
    status: 429,
    meaning:
      'The account already has as many operations running and waiting as it may (VCS_SYNC_GIT_QUEUE_PER_ACCOUNT); retry in a moment.',
  },
  VCS_SYNC_GIT_TIMEOUT: {
    status: 503,
    meaning: 'A git command did not finish within VCS_SYNC_GIT_TIMEOUT_MS and was killed; nothing was committed.',
  },
} as const satisfies ErrorCatalogue;

/** One of vcs-sync's codes. */
export type VcsSyncErrorCode = keyof typeof VCS_SYNC_ERROR_CODES;

/** Every error vcs-sync throws: its code must be in VCS_SYNC_ERROR_CODES, whose status it answers with. */
export class VcsSyncError extends catalogueErrorClass(VCS_SYNC_ERROR_CODES) {}

/** A project that does not exist or is another account's: both answer alike, so ids of others leak nothing. */
export class ProjectNotFoundError extends VcsSyncError {
  constructor(id: string) {
    super('VCS_SYNC_PROJECT_NOT_FOUND', `You have no project ${id}.`, { details: { projectId: id } });
  }
}

/** A path the project has no file at. */
export class FileNotFoundError extends VcsSyncError {
  constructor(path: string) {
    super('VCS_SYNC_FILE_NOT_FOUND', `No file ${path}.`, { details: { path } });
  }
}

/** A path refused before anything touches the disk, or a symlink met on the way; the code says why. */
export class PathRefusedError extends VcsSyncError {
  constructor(
    code:
      | 'VCS_SYNC_PATH_INVALID'
      | 'VCS_SYNC_PATH_TRAVERSAL'
      | 'VCS_SYNC_PATH_ABSOLUTE'
      | 'VCS_SYNC_PATH_GIT_DIR'
      | 'VCS_SYNC_SYMLINK'
      | 'VCS_SYNC_PATH_CONFLICT',
    why: string,
  ) {
    super(code, why);
  }
}

/** A write based on a version that is no longer the file's. */
export class VersionMismatchError extends VcsSyncError {
  constructor(path: string, currentVersion: string | null) {
    super('VCS_SYNC_VERSION_MISMATCH', `${path} changed since the version you based this change on.`, {
      details: { path, currentVersion },
    });
  }
}

/** A size or count cap, or the account's storage quota; `limit` and `wouldBe` say by how much. */
export class LimitError extends VcsSyncError {
  constructor(
    code:
      | 'VCS_SYNC_FILE_TOO_LARGE'
      | 'VCS_SYNC_PROJECT_TOO_LARGE'
      | 'VCS_SYNC_TOO_MANY_FILES'
      | 'VCS_SYNC_STORAGE_QUOTA_EXCEEDED',
    message: string,
    details: { limit: number; wouldBe: number },
  ) {
    super(code, message, { details });
  }
}
