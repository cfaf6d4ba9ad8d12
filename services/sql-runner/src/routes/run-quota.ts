import { randomUUID } from 'node:crypto';
import type { Quotas } from '@taidon/contracts';
import { ROLE_HEADER } from '@taidon/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdmittedRun, RunQuota } from '../domain/runs/quota.js';
import { QuotaRefusal } from '../domain/runs/quota-errors.js';

/** The caller's quotas, asked for while the run's SQL is planned; undefined when none are enforced (USER_PROFILE_URL unset). */
export async function quotasOf(
  quota: RunQuota | undefined,
  request: FastifyRequest,
  ownerId: string,
): Promise<Quotas | undefined> {
  if (!quota) return undefined;
  const role = request.headers[ROLE_HEADER];
  return quota.quotasFor(ownerId, typeof role === 'string' ? role : 'anonymous', request.id);
}

/**
 * Before the stream starts: admits the run under the caller's quotas (run rate, open runs, instances) in one
 * statement, having deleted any idle instance reclaimed for it; over a quota, answers 429 with Retry-After.
 * `tailKey` is the key the run starts from, null for a head alone. Undefined when no quotas are enforced.
 */
export async function admitRun(
  quota: RunQuota | undefined,
  quotas: Quotas | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
  ownerId: string,
  session: { id: string; instanceId: string | null },
  tailKey: string | null,
): Promise<AdmittedRun | undefined> {
  if (!quota || !quotas) return undefined;
  try {
    return await quota.admit(randomUUID(), ownerId, quotas, session, tailKey, request.id);
  } catch (error) {
    if (error instanceof QuotaRefusal) reply.header('retry-after', String(error.retryAfterSeconds));
    throw error;
  }
}
