import type { AuditRecord, AuditSink } from '@taidon/kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What an answer tells about the instance: its id and owner (never its connection secrets). */
interface Answered {
  id?: string;
  ownerId?: string | null;
  source?: string;
}

function answered(payload: unknown): Answered {
  if (typeof payload !== 'string') return {};
  try {
    const { id, ownerId, source } = JSON.parse(payload) as Answered;
    return { ...(typeof id === 'string' ? { id } : {}), ownerId: ownerId ?? null, ...(source ? { source } : {}) };
  } catch {
    return {};
  }
}

/**
 * Reports `instance-created` and `instance-deleted` to the audit log for the
 * instances callers ask for through the API (`POST /instances`,
 * `DELETE /instances/:id`). Warm-pool starts and TTL deletions are the
 * platform's own housekeeping and are not reported.
 */
export function registerInstanceAudit(app: FastifyInstance, audit: AuditSink): void {
  const answers = new WeakMap<FastifyRequest, Answered>();
  app.addHook('onSend', async (request, reply, payload) => {
    const route = request.routeOptions.url;
    const watched =
      (route === '/instances' && request.method === 'POST') ||
      (route === '/instances/:id' && request.method === 'DELETE');
    if (watched && reply.statusCode < 300) answers.set(request, answered(payload));
    return payload;
  });
  app.addHook('onResponse', async (request) => {
    const answer = answers.get(request);
    if (!answer?.id) return;
    const created = request.method === 'POST';
    const owner = created ? (request.body as { ownerId?: string } | undefined)?.ownerId : answer.ownerId;
    const event: AuditRecord = {
      action: created ? 'instance-created' : 'instance-deleted',
      target: answer.id,
      requestId: request.id,
      ...(owner && UUID.test(owner) ? { accountId: owner } : {}),
      ...(answer.source ? { detail: { source: answer.source } } : {}),
    };
    audit.record(event);
  });
  app.addHook('onClose', async () => audit.close());
}
