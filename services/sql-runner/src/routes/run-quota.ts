import type { Quotas } from '@taidon/contracts';
import { ROLE_HEADER } from '@taidon/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type QuotaSession, type RunQuota, RunRateExceededError } from '../domain/runs/quota.js';

/**
 * Counts a run against the caller's run rate before anything else is done
 * for it; over the rate, answers 429 with Retry-After. Undefined when no
 * quotas are enforced (USER_PROFILE_URL unset).
 */
export async function admitRun(
  quota: RunQuota | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
  ownerId: string,
): Promise<Quotas | undefined> {
  if (!quota) return undefined;
  const role = request.headers[ROLE_HEADER];
  const quotas = await quota.quotasFor(ownerId, typeof role === 'string' ? role : 'anonymous', request.id);
  try {
    quota.admitRun(ownerId, quotas);
  } catch (error) {
    if (error instanceof RunRateExceededError) reply.header('retry-after', String(error.retryAfterSeconds));
    throw error;
  }
  return quotas;
}

/**
 * Before the stream starts: makes room under the caller's instance quota for
 * the instance this run may need, or refuses the run (429) when every
 * instance of the account is in use.
 */
export async function checkInstanceQuota(
  quota: RunQuota | undefined,
  quotas: Quotas | undefined,
  request: FastifyRequest,
  ownerId: string,
  session: QuotaSession,
): Promise<void> {
  if (quota && quotas) await quota.makeRoomForInstance(ownerId, quotas, session, request.id);
}
