import { type Static, Type } from 'typebox';

/** A project: a Git working tree of the account's, every save a commit. */
export const Project = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    template: Type.String({ description: 'The template it was created from (`empty` or an example project).' }),
    createdAt: Type.String({ format: 'date-time' }),
    sizeBytes: Type.Integer({ minimum: 0, description: 'Bytes on disk: its files and their history.' }),
  },
  { additionalProperties: false },
);
export type Project = Static<typeof Project>;

/** A token for a remote: kept encrypted, sent to git in a header, never shown again. */
const RemoteToken = Type.String({
  minLength: 1,
  maxLength: 1024,
  pattern: '^[\\x21-\\x7e]+$',
  description:
    'Access token for the remote (sent as HTTP Basic with user `x-access-token`); kept encrypted, never answered.',
});
const RemoteUrl = Type.String({
  minLength: 1,
  maxLength: 2048,
  description:
    '`https` URL of a Git repository (plain `http` to 127.0.0.1 only where the operator allows it); no credentials in it.',
});
const RemoteBranch = Type.String({ minLength: 1, maxLength: 200, description: 'Branch to pull from and push to.' });

/** Where an imported project comes from. */
export const ImportSource = Type.Object(
  {
    url: RemoteUrl,
    token: Type.Optional(RemoteToken),
    branch: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: "The branch to import; default the remote's HEAD." }),
    ),
  },
  { additionalProperties: false },
);
export type ImportSource = Static<typeof ImportSource>;

/** Body of `POST /api/projects`. */
export const CreateProjectRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'Unique among your projects.' }),
    template: Type.Optional(
      Type.String({
        maxLength: 40,
        pattern: '^[a-z0-9][a-z0-9-]*$',
        description: '`empty` (default) or a template name.',
      }),
    ),
    // Import from a Git remote (its history kept, the remote set) instead of a template.
    import: Type.Optional(ImportSource),
  },
  { additionalProperties: false },
);
export type CreateProjectRequest = Static<typeof CreateProjectRequest>;

/** The templates a project can start from. */
export const ProjectTemplates = Type.Object({ templates: Type.Array(Type.String()) }, { additionalProperties: false });
export type ProjectTemplates = Static<typeof ProjectTemplates>;

/** One file of a project's tree at its latest commit. */
export const ProjectFile = Type.Object(
  {
    path: Type.String(),
    sizeBytes: Type.Integer({ minimum: 0 }),
    version: Type.String({ description: 'The blob id: send it back in If-Match to change the file.' }),
  },
  { additionalProperties: false },
);
export type ProjectFile = Static<typeof ProjectFile>;

/** `GET /api/projects/{id}/files`: every file at `commit`, the latest. */
export const ProjectTree = Type.Object(
  { commit: Type.String(), files: Type.Array(ProjectFile) },
  { additionalProperties: false },
);
export type ProjectTree = Static<typeof ProjectTree>;

/** What a write, rename or delete did (the new version is also the `ETag` header). */
export const FileChange = Type.Object(
  {
    path: Type.String(),
    version: Type.Union([Type.String(), Type.Null()], { description: 'Null once deleted.' }),
    commit: Type.String({ description: 'The commit holding the change (the latest unchanged when nothing differed).' }),
    created: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type FileChange = Static<typeof FileChange>;

/** Body of `POST /api/projects/{id}/rename`. */
export const RenameFileRequest = Type.Object(
  { from: Type.String({ minLength: 1, maxLength: 512 }), to: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false },
);
export type RenameFileRequest = Static<typeof RenameFileRequest>;

/** Query of `GET /api/projects/{id}/history`. */
export const HistoryQuery = Type.Object(
  {
    path: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, description: 'Only commits that changed this file.' }),
    ),
    limit: Type.Optional(
      Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: 'At most this many, 1–200; default 50.' }),
    ),
  },
  { additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuery>;

/** One commit of a project's history. */
export const Commit = Type.Object(
  {
    commit: Type.String(),
    parents: Type.Array(Type.String()),
    authorName: Type.String(),
    authorEmail: Type.String(),
    at: Type.String({ format: 'date-time' }),
    message: Type.String(),
  },
  { additionalProperties: false },
);
export type Commit = Static<typeof Commit>;

/** `GET /api/projects/{id}/history`: newest first. */
export const ProjectHistory = Type.Object({ commits: Type.Array(Commit) }, { additionalProperties: false });
export type ProjectHistory = Static<typeof ProjectHistory>;

const CommitId = Type.String({ pattern: '^[0-9a-f]{4,64}$', description: 'A commit id, full or abbreviated.' });

/** Query of `GET /api/projects/{id}/diff`. */
export const DiffQuery = Type.Object({ from: CommitId, to: CommitId }, { additionalProperties: false });
export type DiffQuery = Static<typeof DiffQuery>;

/** `GET /api/projects/{id}/diff`: the files that differ and the unified diff. */
export const ProjectDiff = Type.Object(
  {
    from: Type.String(),
    to: Type.String(),
    files: Type.Array(
      Type.Object(
        {
          status: Type.String({ description: 'A added, M modified, D deleted, R renamed (from `from`).' }),
          path: Type.String(),
          from: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    patch: Type.String(),
    truncated: Type.Boolean({ description: 'The patch was cut at the service’s diff size cap.' }),
  },
  { additionalProperties: false },
);
export type ProjectDiff = Static<typeof ProjectDiff>;

/** Body of `POST /api/projects/{id}/restore`. */
export const RestoreRequest = Type.Object(
  {
    commit: CommitId,
    path: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, description: 'One file; without it, the whole tree.' }),
    ),
  },
  { additionalProperties: false },
);
export type RestoreRequest = Static<typeof RestoreRequest>;

/** What a restore did. */
export const RestoreResult = Type.Object(
  {
    commit: Type.String({ description: 'The new commit (the latest unchanged when nothing differed).' }),
    restoredFrom: Type.String(),
    path: Type.Union([Type.String(), Type.Null()]),
    changed: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type RestoreResult = Static<typeof RestoreResult>;

/** Params of the project routes. */
export const ProjectIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
export type ProjectIdParams = Static<typeof ProjectIdParams>;

/** Body of `PUT /api/projects/{id}/remote`: replaces the remote; a token left out removes the one kept before. */
export const SetRemoteRequest = Type.Object(
  { url: RemoteUrl, token: Type.Optional(RemoteToken), branch: Type.Optional(RemoteBranch) },
  { additionalProperties: false },
);
export type SetRemoteRequest = Static<typeof SetRemoteRequest>;

/** A project's remote: never its token, only whether one is kept. */
export const ProjectRemote = Type.Object(
  {
    url: Type.String(),
    branch: Type.String(),
    hasToken: Type.Boolean(),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type ProjectRemote = Static<typeof ProjectRemote>;

/** Answer of `GET /api/projects/{id}/remote`: the remote, or null when the project has none. */
export const ProjectRemoteOrNull = Type.Union([ProjectRemote, Type.Null()]);
export type ProjectRemoteOrNull = Static<typeof ProjectRemoteOrNull>;

/** What a pull (or a resolved merge) did. */
export const PullResult = Type.Object(
  {
    status: Type.Union([Type.Literal('up-to-date'), Type.Literal('fast-forward'), Type.Literal('merged')]),
    commit: Type.String({ description: "The project's latest commit after it." }),
    theirs: Type.String({ description: "The remote's commit that was pulled." }),
  },
  { additionalProperties: false },
);
export type PullResult = Static<typeof PullResult>;

/** What a push did. */
export const PushResult = Type.Object(
  {
    status: Type.Union([Type.Literal('pushed'), Type.Literal('up-to-date')]),
    commit: Type.String(),
    branch: Type.String(),
  },
  { additionalProperties: false },
);
export type PushResult = Static<typeof PushResult>;

const Text = Type.Union([Type.String(), Type.Null()]);

/** One file both sides changed, with its three versions (null where the file is absent on that side). */
export const ConflictFile = Type.Object(
  {
    path: Type.String(),
    base: Text,
    ours: Text,
    theirs: Text,
    omitted: Type.Optional(Type.Boolean({ description: 'Texts left out to keep the answer bounded.' })),
  },
  { additionalProperties: false },
);
export type ConflictFile = Static<typeof ConflictFile>;

/** A pull waiting for its conflicts to be resolved (the 409's extensions say the same). */
export const PendingMerge = Type.Object(
  {
    ours: Type.String(),
    theirs: Type.String(),
    base: Type.Union([Type.String(), Type.Null()]),
    files: Type.Array(ConflictFile),
  },
  { additionalProperties: false },
);
export type PendingMerge = Static<typeof PendingMerge>;

const ResolutionPath = Type.String({ minLength: 1, maxLength: 512 });

/** Body of `POST /api/projects/{id}/merge`: one resolution per conflicting file. */
export const ResolveMergeRequest = Type.Object(
  {
    resolutions: Type.Array(
      Type.Union([
        Type.Object(
          { path: ResolutionPath, take: Type.Union([Type.Literal('ours'), Type.Literal('theirs')]) },
          { additionalProperties: false, description: 'Take one side whole (a side without the file deletes it).' },
        ),
        Type.Object(
          { path: ResolutionPath, text: Type.String({ description: 'The merged text you wrote.' }) },
          { additionalProperties: false },
        ),
      ]),
      { minItems: 1, maxItems: 2000 },
    ),
  },
  { additionalProperties: false },
);
export type ResolveMergeRequest = Static<typeof ResolveMergeRequest>;

/** What an aborted merge dropped. */
export const AbortedMerge = Type.Object({ theirs: Type.String() }, { additionalProperties: false });
export type AbortedMerge = Static<typeof AbortedMerge>;
