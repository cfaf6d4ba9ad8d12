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

/** The instances a batch's answer made, each with the index of the input it answers (its owner is that input's). */
function answeredBatch(payload: unknown): (Answered & { index: number })[] {
  if (typeof payload !== 'string') return [];
  try {
    const { answers } = JSON.parse(payload) as { answers?: { ok: boolean; instance?: Answered }[] };
    return (answers ?? []).flatMap((a, index) =>
      a.ok && typeof a.instance?.id === 'string'
        ? [{ index, id: a.instance.id, ...(a.instance.source ? { source: a.instance.source } : {}) }]
        : [],
    );
  } catch {
    return [];
  }
}

/**
 * Reports `instance-created` and `instance-deleted` to the audit log for the
 * instances callers ask for through the API (`POST /instances`, each instance
 * a `POST /instances/batch` made, `DELETE /instances/:id`). Warm-pool starts
 * and TTL deletions are the platform's own housekeeping and are not reported.
 */
export function registerInstanceAudit(app: FastifyInstance, audit: AuditSink): void {
  const answers = new WeakMap<FastifyRequest, Answered[]>();
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode >= 300 || (request.method !== 'POST' && request.method !== 'DELETE')) return payload;
    const route = request.routeOptions.url;
    if (route === '/instances/batch' && request.method === 'POST') {
      const inputs = (request.body as { instances?: { ownerId?: string }[] } | undefined)?.instances ?? [];
      answers.set(
        request,
        answeredBatch(payload).map(({ index, ...made }) => ({ ...made, ownerId: inputs[index]?.ownerId ?? null })),
      );
    } else if (route === '/instances' && request.method === 'POST') {
      const made = answered(payload);
      answers.set(request, [{ ...made, ownerId: (request.body as { ownerId?: string } | undefined)?.ownerId ?? null }]);
    } else if (route === '/instances/:id' && request.method === 'DELETE') answers.set(request, [answered(payload)]);
    return payload;
  });
  app.addHook('onResponse', async (request) => {
    const created = request.method === 'POST';
    for (const answer of answers.get(request) ?? []) {
      if (!answer.id) continue;
      const owner = answer.ownerId;
      const event: AuditRecord = {
        action: created ? 'instance-created' : 'instance-deleted',
        target: answer.id,
        requestId: request.id,
        ...(owner && UUID.test(owner) ? { accountId: owner } : {}),
        ...(answer.source ? { detail: { source: answer.source } } : {}),
      };
      audit.record(event);
    }
  });
  app.addHook('onClose', async () => audit.close());
}
