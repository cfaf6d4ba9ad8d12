import type { AuditRecord, AuditSink } from '@taidon/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * What the gateway reports to the audit log, seen from its side of the
 * wire: sign-in and account changes from the answers of `/api/auth/*`, runs
 * (never their SQL), and every change under `/api/admin/*`. Emitting here
 * keeps services free of audit code and catches every path through the API.
 */

type Action = 'sign-in' | 'sign-in-failed' | 'sign-up' | 'sign-out' | 'upgrade';

/** Last path segment of an `/api/auth/*` route → what a success means; a 401 on a sign-in is a failed sign-in. */
const AUTH_ACTIONS: Record<string, Action> = {
  anonymous: 'sign-in',
  'sign-in': 'sign-in',
  signin: 'sign-in',
  login: 'sign-in',
  password: 'sign-in',
  callback: 'sign-in',
  'sign-up': 'sign-up',
  signup: 'sign-up',
  register: 'sign-up',
  'sign-out': 'sign-out',
  signout: 'sign-out',
  logout: 'sign-out',
  upgrade: 'upgrade',
};

const signedInAccount = new WeakMap<FastifyRequest, string>();
/** The id of the share link a `POST /api/shares` made, read from its answer. */
const createdShare = new WeakMap<FastifyRequest, string>();

/**
 * The account a sign-in answer of idp is for (its `accountId`, the `sub` of the token it carries), as the route
 * read it: the event takes it from there instead of parsing the answer and the token again (issue 22).
 */
export function rememberSignedIn(request: FastifyRequest, accountId: string): void {
  signedInAccount.set(request, accountId);
}

/** The id in a `POST /api/shares` answer (sql-runner's own, passed through). */
function shareIdOfAnswer(payload: string): string | undefined {
  try {
    const id = (JSON.parse(payload) as { id?: unknown }).id;
    return typeof id === 'string' && /^[A-Za-z0-9_-]{22}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuidOrNothing = (value: string | undefined) => (value && UUID.test(value) ? value : undefined);

function authEvent(request: FastifyRequest, status: number, route: string): AuditRecord | undefined {
  const action = AUTH_ACTIONS[route.split('/').pop() ?? ''];
  if (!action) return undefined;
  const known = uuidOrNothing(signedInAccount.get(request) ?? (request.user as { sub?: string } | undefined)?.sub);
  const method = route.split('/').pop() ?? '';
  if (status >= 200 && status < 300) {
    return { action, ...(known ? { accountId: known } : {}), detail: { method } };
  }
  // Refused credentials, and attempts idp throttles (429), are failed sign-ins.
  if (action === 'sign-in' && (status === 401 || status === 403 || status === 429)) {
    return { action: 'sign-in-failed', detail: { method, status } };
  }
  return undefined;
}

function adminEvent(request: FastifyRequest, status: number, route: string): AuditRecord | undefined {
  const actor = uuidOrNothing((request.user as { sub?: string } | undefined)?.sub);
  const params = (request.params ?? {}) as Record<string, unknown>;
  const subject = uuidOrNothing(typeof params.id === 'string' ? params.id : undefined);
  const body = (request.body ?? {}) as Record<string, unknown>;
  // Only the names of the fields changed, and a new role (a word): never free text from the body.
  const changed = Object.keys(body).slice(0, 10);
  const base = { ...(actor ? { actorId: actor } : {}), ...(subject ? { accountId: subject } : {}) };
  const detail = { method: request.method, route, status, fields: changed };
  if (status >= 200 && status < 300 && typeof body.role === 'string') {
    return { ...base, action: 'role-changed', target: route, detail: { ...detail, role: body.role } };
  }
  if (status >= 200 && status < 300 && body.overrides !== undefined) {
    return { ...base, action: 'quota-changed', target: route, detail };
  }
  return { ...base, action: 'admin-action', target: route, detail };
}

/** A share link made or revoked by its owner (ADR 0027); reading links is not an event. */
function shareEvent(request: FastifyRequest, route: string): AuditRecord | undefined {
  const accountId = uuidOrNothing((request.user as { sub?: string } | undefined)?.sub);
  const base = accountId ? { accountId } : {};
  if (route === '/api/shares' && request.method === 'POST') {
    const id = createdShare.get(request);
    return { ...base, action: 'share-created', ...(id ? { target: `share:${id}` } : {}) };
  }
  const id = (request.params as { id?: unknown } | undefined)?.id;
  if (route === '/api/shares/:id' && request.method === 'DELETE' && typeof id === 'string') {
    return { ...base, action: 'share-revoked', target: `share:${id.slice(0, 64)}` };
  }
  return undefined;
}

/** The event one finished request stands for, if any. */
export function auditEventOf(request: FastifyRequest, reply: FastifyReply): AuditRecord | undefined {
  const route = request.routeOptions.url ?? '';
  const status = reply.statusCode;
  let event: AuditRecord | undefined;
  if (route.startsWith('/api/auth/') && request.method !== 'GET') event = authEvent(request, status, route);
  else if (route === '/api/runs' && request.method === 'POST') {
    const accountId = uuidOrNothing((request.user as { sub?: string } | undefined)?.sub);
    event = { action: 'run', ...(accountId ? { accountId } : {}), detail: { status } };
  } else if (route.startsWith('/api/shares') && status >= 200 && status < 300) {
    event = shareEvent(request, route);
  } else if (route.startsWith('/api/admin/') && request.method !== 'GET') event = adminEvent(request, status, route);
  if (!event) return undefined;
  return { ...event, ip: request.ip, requestId: request.id };
}

/** Records the audit event of every request that stands for one, after its answer is sent. */
export function registerAuditEvents(api: FastifyInstance, sink: AuditSink): void {
  api.addHook('onSend', async (request, _reply, payload) => {
    const route = request.routeOptions.url ?? '';
    if (route === '/api/shares' && request.method === 'POST' && typeof payload === 'string') {
      const id = shareIdOfAnswer(payload);
      if (id) createdShare.set(request, id);
    }
    return payload;
  });
  api.addHook('onResponse', async (request, reply) => {
    const event = auditEventOf(request, reply);
    if (event) sink.record(event);
  });
}
