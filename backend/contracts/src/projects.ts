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
