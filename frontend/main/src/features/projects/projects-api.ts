import type {
  CreateProjectRequest,
  FileChange,
  PendingMerge,
  Project,
  ProjectDiff,
  ProjectHistory,
  ProjectRemote,
  ProjectTestEvent,
  ProjectTree,
  PullResult,
  PushResult,
  ResolveMergeRequest,
  RestoreResult,
  SetRemoteRequest,
} from '@taidon/contracts';
import type { ApiClient } from '../../api/client.js';
import { readNdjson } from '../../api/ndjson.js';

/** A file's text with the version (`ETag`, unquoted) a save must name in `If-Match`. */
export interface FileText {
  text: string;
  version: string;
}

/** The entity tag of a response as the version it is (quotes and a `W/` dropped). */
export function versionOfEtag(etag: string | null): string {
  return (etag ?? '').replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

/** A path in a project's URL: each segment encoded, the slashes kept. */
export function filePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

const json = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body) });

/**
 * The gateway's `/api/projects*` for the SPA (vcs-sync behind it): every
 * failure is the ApiError of its problem+json (412 VCS_SYNC_VERSION_MISMATCH,
 * 409 VCS_SYNC_PULL_CONFLICT, …).
 */
export class ProjectsApi {
  constructor(private readonly api: ApiClient) {}

  private base(id: string): string {
    return `/api/projects/${encodeURIComponent(id)}`;
  }

  async templates(): Promise<string[]> {
    const response = await this.api.request('/api/project-templates');
    return ((await response.json()) as { templates: string[] }).templates;
  }

  async list(): Promise<Project[]> {
    return (await (await this.api.request('/api/projects')).json()) as Project[];
  }

  async create(body: CreateProjectRequest): Promise<Project> {
    return (await (await this.api.request('/api/projects', json(body))).json()) as Project;
  }

  async remove(id: string): Promise<void> {
    await this.api.request(this.base(id), { method: 'DELETE' });
  }

  async tree(id: string): Promise<ProjectTree> {
    return (await (await this.api.request(`${this.base(id)}/files`)).json()) as ProjectTree;
  }

  async readFile(id: string, path: string): Promise<FileText> {
    const response = await this.api.request(`${this.base(id)}/files/${filePath(path)}`);
    return { text: await response.text(), version: versionOfEtag(response.headers.get('etag')) };
  }

  /** Saves a file as a commit, if it is still at `version` (null: create, the file must not exist). */
  async writeFile(id: string, path: string, text: string, version: string | null): Promise<FileChange> {
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    if (version === null) headers['if-none-match'] = '*';
    else headers['if-match'] = `"${version}"`;
    const response = await this.api.request(`${this.base(id)}/files/${filePath(path)}`, {
      method: 'PUT',
      headers,
      body: text,
    });
    return (await response.json()) as FileChange;
  }

  /** Deletes a file as a commit, if it is still at `version`. */
  async deleteFile(id: string, path: string, version: string): Promise<FileChange> {
    const response = await this.api.request(`${this.base(id)}/files/${filePath(path)}`, {
      method: 'DELETE',
      headers: { 'if-match': `"${version}"` },
    });
    return (await response.json()) as FileChange;
  }

  async history(id: string, path?: string): Promise<ProjectHistory> {
    const query = path ? `?path=${encodeURIComponent(path)}` : '';
    return (await (await this.api.request(`${this.base(id)}/history${query}`)).json()) as ProjectHistory;
  }

  async diff(id: string, from: string, to: string): Promise<ProjectDiff> {
    const query = `?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    return (await (await this.api.request(`${this.base(id)}/diff${query}`)).json()) as ProjectDiff;
  }

  async restore(id: string, commit: string, path?: string): Promise<RestoreResult> {
    const response = await this.api.request(`${this.base(id)}/restore`, json(path ? { commit, path } : { commit }));
    return (await response.json()) as RestoreResult;
  }

  async remote(id: string): Promise<ProjectRemote | null> {
    return (await (await this.api.request(`${this.base(id)}/remote`)).json()) as ProjectRemote | null;
  }

  async setRemote(id: string, body: SetRemoteRequest): Promise<ProjectRemote> {
    const response = await this.api.request(`${this.base(id)}/remote`, { method: 'PUT', body: JSON.stringify(body) });
    return (await response.json()) as ProjectRemote;
  }

  async pull(id: string): Promise<PullResult> {
    return (await (await this.api.request(`${this.base(id)}/pull`, json({}))).json()) as PullResult;
  }

  async push(id: string): Promise<PushResult> {
    return (await (await this.api.request(`${this.base(id)}/push`, json({}))).json()) as PushResult;
  }

  async pendingMerge(id: string): Promise<PendingMerge> {
    return (await (await this.api.request(`${this.base(id)}/merge`)).json()) as PendingMerge;
  }

  async resolveMerge(id: string, body: ResolveMergeRequest): Promise<PullResult> {
    return (await (await this.api.request(`${this.base(id)}/merge`, json(body))).json()) as PullResult;
  }

  async abortMerge(id: string): Promise<void> {
    await this.api.request(`${this.base(id)}/merge`, { method: 'DELETE' });
  }

  /** Runs the project's `test/` and `bench/` files; events arrive as each file ends. */
  async *tests(id: string, signal?: AbortSignal): AsyncGenerator<ProjectTestEvent> {
    const response = await this.api.request(`${this.base(id)}/tests`, { ...json({}), signal: signal ?? null });
    if (response.body) yield* readNdjson<ProjectTestEvent>(response.body);
  }
}
