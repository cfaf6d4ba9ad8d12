import type { FastifyReply } from 'fastify';
import { SqlRunnerError } from '../errors.js';

/** Codes of a full throwaway bound (ThrowawayClones.reserve), answered with Retry-After. */
const FULL = new Set(['SQL_RUNNER_THROWAWAY_ACCOUNT_BUSY', 'SQL_RUNNER_THROWAWAY_BUSY']);

/** Runs `work`; a refusal for want of throwaway clones gets its Retry-After header on the way out. */
export async function withRetryAfter<T>(reply: FastifyReply, work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SqlRunnerError && FULL.has(error.code)) {
      reply.header('retry-after', String(error.details.retryAfterSeconds ?? 1));
    }
    throw error;
  }
}
