import type {
  CreatedShare,
  CreateShareRequest,
  ExplainRequest,
  ExplainResponse,
  PlanInput,
  PlanResponse,
  RunEvent,
  RunRequest,
  SessionSchema,
  SharedState,
  ShareSummary,
} from '@taidon/contracts';
import type { AuthStore } from './auth.js';
import { apiErrorOf } from './errors.js';
import { readNdjson } from './ndjson.js';

/**
 * The typed client of the gateway's `/api`: adds the bearer token, renews it
 * once when refused, and rebuilds problem+json answers as ApiError.
 */
export class ApiClient {
  constructor(private readonly auth: AuthStore) {}

  /**
   * One authenticated request to `/api`; answers the response when it is 2xx, throws the ApiError of any other.
   * A body is sent as JSON unless the caller names its own content type (a project file is `text/plain`).
   */
  async request(path: string, init: RequestInit = {}, retry = true): Promise<Response> {
    const headers = new Headers(init.headers);
    // The cached token is read without an await, so fetch() is called before the caller's task ends.
    headers.set('authorization', `Bearer ${this.auth.validToken() ?? (await this.auth.token())}`);
    if (init.body !== undefined && init.body !== null && !headers.has('content-type')) {
      headers.set('content-type', 'application/json');
    }
    const response = await fetch(path, { ...init, headers });
    if (response.status === 401 && retry) {
      this.auth.invalidate();
      return this.request(path, init, false);
    }
    if (!response.ok) throw await apiErrorOf(response);
    return response;
  }

  /** Splits and keys SQL without running it; a syntax error throws an ApiError (422) with its position. */
  async plan(input: PlanInput, signal?: AbortSignal): Promise<PlanResponse> {
    const response = await this.request('/api/plan', {
      method: 'POST',
      body: JSON.stringify(input),
      signal: signal ?? null,
    });
    return (await response.json()) as PlanResponse;
  }

  /** Starts a run; events arrive as the server sends them. */
  async *run(body: RunRequest, signal?: AbortSignal): AsyncGenerator<RunEvent> {
    const response = await this.request('/api/runs', {
      method: 'POST',
      body: JSON.stringify(body),
      signal: signal ?? null,
    });
    if (!response.body) return;
    yield* readNdjson<RunEvent>(response.body);
  }

  /** Plans and runs one statement with EXPLAIN ANALYZE on a throwaway clone (the learner's rows stay as they are). */
  async explain(body: ExplainRequest, signal?: AbortSignal): Promise<ExplainResponse> {
    const response = await this.request('/api/explain', {
      method: 'POST',
      body: JSON.stringify(body),
      signal: signal ?? null,
    });
    return (await response.json()) as ExplainResponse;
  }

  /** Asks the server to cancel a run in progress. */
  async cancel(runId: string): Promise<void> {
    await this.request(`/api/runs/${runId}/cancel`, { method: 'POST', body: '{}' });
  }

  /** Schemas, tables, columns, keys, indexes and row estimates of the session's instance; empty when it has none yet. */
  async schema(sessionId: string, signal?: AbortSignal): Promise<SessionSchema> {
    const response = await this.request(`/api/sessions/${sessionId}/schema`, { signal: signal ?? null });
    return (await response.json()) as SessionSchema;
  }

  /** Makes a share link of a tail and a head (ADR 0027). */
  async createShare(body: CreateShareRequest): Promise<CreatedShare> {
    const response = await this.request('/api/shares', { method: 'POST', body: JSON.stringify(body) });
    return (await response.json()) as CreatedShare;
  }

  /** This account's live share links, newest first. */
  async listShares(): Promise<ShareSummary[]> {
    const response = await this.request('/api/shares');
    return ((await response.json()) as { shares: ShareSummary[] }).shares;
  }

  /** Revokes one of this account's share links. */
  async revokeShare(id: string): Promise<void> {
    await this.request(`/api/shares/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  /** A share link's tail and head; public, so no token is needed (nor sent: opening a link signs nobody in). */
  async openShare(id: string, signal?: AbortSignal): Promise<SharedState> {
    const response = await fetch(`/api/shares/${encodeURIComponent(id)}`, { signal: signal ?? null });
    if (!response.ok) throw await apiErrorOf(response);
    return (await response.json()) as SharedState;
  }
}
