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
  VCS_SYNC_GIT_OUTPUT_TOO_LARGE: {
    status: 413,
    meaning: 'A git command printed more than VCS_SYNC_GIT_OUTPUT_MAX_BYTES and was killed; nothing was committed.',
  },
  VCS_SYNC_REMOTE_URL_INVALID: {
    status: 422,
    meaning:
      'The remote URL is not an absolute URL of at most 2048 characters, or has a query, a fragment, spaces or control characters.',
  },
  VCS_SYNC_REMOTE_URL_CREDENTIALS: {
    status: 422,
    meaning:
      'The remote URL carries a user name or password; a token goes in `token`, which is kept encrypted, never in a URL.',
  },
  VCS_SYNC_REMOTE_PROTOCOL: {
    status: 422,
    meaning:
      'The remote uses a protocol vcs-sync does not speak: only `https` (plain `http` to 127.0.0.1 with VCS_SYNC_ALLOW_LOOPBACK_HTTP, `file` with VCS_SYNC_ALLOW_FILE_REMOTES); `ext::`, `ssh`, `git` and the rest are refused.',
  },
  VCS_SYNC_REMOTE_ADDRESS_REFUSED: {
    status: 422,
    meaning:
      'The remote’s host is, or resolves to, an address that is not on the public internet (loopback, link-local, private, reserved); private networks only with VCS_SYNC_ALLOW_PRIVATE_REMOTES.',
  },
  VCS_SYNC_TOKENS_DISABLED: {
    status: 503,
    meaning: 'The request carries a token but this installation has no VCS_SYNC_TOKEN_KEY to keep it encrypted.',
  },
  VCS_SYNC_REMOTE_NOT_SET: { status: 409, meaning: 'The project has no remote: set one with `PUT …/remote` first.' },
  VCS_SYNC_REMOTE_AUTH_FAILED: {
    status: 422,
    meaning:
      'The remote refused the credentials (HTTP 401 or 403): the token is missing, wrong, expired or lacks access.',
  },
  VCS_SYNC_REMOTE_NOT_FOUND: { status: 422, meaning: 'The remote answered that there is no repository at this URL.' },
  VCS_SYNC_REMOTE_BRANCH_NOT_FOUND: {
    status: 422,
    meaning: 'The remote repository has no such branch (`branch`), or no branch at all (an empty repository).',
  },
  VCS_SYNC_REMOTE_UNREACHABLE: {
    status: 502,
    meaning:
      'The remote’s host does not resolve, could not be reached, or answered something other than Git (its HTTP status is not told).',
  },
  VCS_SYNC_REMOTE_FETCH_FAILED: {
    status: 502,
    meaning:
      'The remote answered but fetching its objects failed: the connection dropped, the pack passed the project size cap, or the objects failed Git’s integrity checks; nothing was kept.',
  },
  VCS_SYNC_REMOTE_SYMLINK: {
    status: 422,
    meaning: 'The remote’s tree holds a symbolic link (`path`); it is refused, never checked out or followed.',
  },
  VCS_SYNC_REMOTE_GIT_PATH: {
    status: 422,
    meaning:
      'The remote’s tree holds a path with a `.git` segment (`path`, in any case); Git’s own files never come from a remote.',
  },
  VCS_SYNC_REMOTE_SUBMODULE: {
    status: 422,
    meaning: 'The remote’s tree holds a submodule (`path`); no submodule is fetched or checked out.',
  },
  VCS_SYNC_REMOTE_UNSAFE_PATH: {
    status: 422,
    meaning:
      'The remote’s tree holds a path a project may not have (`path`): a `..` segment, a backslash, a control character, or longer than 512 characters.',
  },
  VCS_SYNC_PULL_CONFLICT: {
    status: 409,
    meaning:
      'The pull meets changes of both sides to the same files: nothing was changed; `files` gives each one’s `base`, `ours` and `theirs` text; resolve with `POST …/merge` or drop it with `DELETE …/merge`.',
  },
  VCS_SYNC_NO_PENDING_MERGE: {
    status: 409,
    meaning:
      'The project has no pull waiting for its conflicts to be resolved (none was, or it was resolved or aborted).',
  },
  VCS_SYNC_MERGE_UNRESOLVED: {
    status: 422,
    meaning:
      'The resolutions do not match the conflicting files: `missing` lists conflicting files without one, `unexpected` paths that are not in conflict.',
  },
  VCS_SYNC_PUSH_REJECTED: {
    status: 409,
    meaning:
      'The remote branch has commits this project lacks (not a fast-forward): nothing was pushed and nothing changed here; pull first.',
  },
  VCS_SYNC_PUSH_REMOTE_REFUSED: {
    status: 422,
    meaning: 'The remote refused the push for its own reasons (a protected branch, a hook); nothing changed here.',
  },
  VCS_SYNC_IMPORT_WITH_TEMPLATE: {
    status: 422,
    meaning: 'A new project comes from a template or from an import, not both.',
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
