import { apiErrorOf } from './errors.js';

/** The signed-in account as the SPA knows it, from the access token's claims. */
export interface AuthState {
  accessToken: string;
  /** Epoch milliseconds after which the token is refused. */
  expiresAtMs: number;
  accountId: string;
  role: string;
}

const STORAGE_KEY = 'taidon.auth';
/** Renew this long before expiry, so a token never dies in the middle of a request. */
const RENEW_MARGIN_MS = 30_000;

type Listener = (state: AuthState | null) => void;

function claimsOf(token: string): { sub?: string; role?: string } {
  const payload = token.split('.')[1] ?? '';
  try {
    return JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: string; role?: string };
  } catch {
    return {};
  }
}

function stateOf(body: { accessToken: string; expiresIn: number }): AuthState {
  const claims = claimsOf(body.accessToken);
  return {
    accessToken: body.accessToken,
    expiresAtMs: Date.now() + body.expiresIn * 1000,
    accountId: claims.sub ?? '',
    role: claims.role ?? 'anonymous',
  };
}

/**
 * Keeps the access token: the first visit signs in anonymously without a
 * form; an expired token is renewed with the refresh cookie when the
 * platform sets one, else by a new anonymous sign-in.
 */
export class AuthStore {
  private state: AuthState | null = null;
  private pending: Promise<AuthState> | undefined;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly storage: Storage = localStorage) {
    try {
      const saved = storage.getItem(STORAGE_KEY);
      this.state = saved ? (JSON.parse(saved) as AuthState) : null;
    } catch {
      this.state = null;
    }
  }

  get current(): AuthState | null {
    return this.state;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(state: AuthState | null): void {
    this.state = state;
    if (state) this.storage.setItem(STORAGE_KEY, JSON.stringify(state));
    else this.storage.removeItem(STORAGE_KEY);
    for (const listener of this.listeners) listener(state);
  }

  /**
   * The access token when it is valid now, else undefined: read without
   * awaiting, so a request that has one is sent in the same task as the key
   * press, before the page renders anything.
   */
  validToken(): string | undefined {
    if (this.state && this.state.expiresAtMs - RENEW_MARGIN_MS > Date.now()) return this.state.accessToken;
    return undefined;
  }

  /** A valid access token, signing in or renewing first when needed. */
  async token(): Promise<string> {
    const valid = this.validToken();
    if (valid) return valid;
    this.pending ??= this.renew().finally(() => {
      this.pending = undefined;
    });
    return (await this.pending).accessToken;
  }

  /** Forgets the current token (it was refused) so the next call renews it. */
  invalidate(): void {
    if (this.state) this.set({ ...this.state, expiresAtMs: 0 });
  }

  private async renew(): Promise<AuthState> {
    // The refresh cookie keeps the same account (anonymous ones too), so its sessions and work stay reachable.
    if (this.state) {
      const refreshed = await this.post('/api/auth/refresh').catch(() => undefined);
      if (refreshed) return refreshed;
    }
    return this.post('/api/auth/anonymous');
  }

  private async post(path: string, body?: unknown, bearer?: string): Promise<AuthState> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const response = await fetch(path, {
      method: 'POST',
      headers,
      credentials: 'same-origin',
      body: body === undefined ? null : JSON.stringify(body),
    });
    if (!response.ok) throw await apiErrorOf(response);
    const state = stateOf((await response.json()) as { accessToken: string; expiresIn: number });
    this.set(state);
    return state;
  }

  /** Signs in with email and password (identity endpoints). */
  signIn(email: string, password: string): Promise<AuthState> {
    return this.post('/api/auth/login', { email, password });
  }

  /** Creates an account with email and password and signs in. */
  signUp(email: string, password: string): Promise<AuthState> {
    return this.post('/api/auth/signup', { email, password });
  }

  /** Turns the current anonymous account into a full one, keeping its work. */
  async upgrade(email: string, password: string): Promise<AuthState> {
    return this.post('/api/auth/upgrade', { email, password }, await this.token());
  }

  /** Signs out (dropping the refresh cookie) and continues anonymously. */
  async signOut(): Promise<void> {
    const token = this.state?.accessToken;
    await fetch('/api/auth/logout', {
      method: 'POST',
      credentials: 'same-origin',
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }).catch(() => undefined);
    this.set(null);
    await this.token();
  }

  /**
   * Whether the platform has the identity endpoints: an empty sign-in is
   * refused as invalid (400) where they exist, 404 where they are not deployed.
   */
  async accountsAvailable(): Promise<boolean> {
    try {
      const response = await fetch('/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      return response.status !== 404;
    } catch {
      return false;
    }
  }
}
