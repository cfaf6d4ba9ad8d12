import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { DomainError } from '@taidon/kit';
import { loadParser, planChain } from '../domain/chain/index.js';
import type { PlanJobMessage, PlannerReply } from './protocol.js';

// One planner worker: loads the parser's WASM once, then plans one job at a time for the pool (pool.ts).
// It is loaded from the built dist/ (also under the test runner), like kit's spawner child.

const port = parentPort;
if (!port) throw new Error('the planner worker runs only as a worker thread');

function reply(message: PlannerReply): void {
  port?.postMessage(message);
}

await loadParser();

port.on('message', async (job: PlanJobMessage) => {
  let result: Extract<PlannerReply, { type: 'done' }>['result'];
  try {
    result = { ok: true, chain: await planChain(job.files, job.options, job.limits) };
  } catch (error) {
    result =
      error instanceof DomainError
        ? {
            ok: false,
            error: {
              code: error.code,
              message: error.message,
              statusCode: error.statusCode,
              details: { ...error.details },
            },
          }
        : { ok: false, unexpected: error instanceof Error ? error.message : String(error) };
  }
  const parserFailed = !result.ok && 'error' in result && result.error.code === 'SQL_RUNNER_STATEMENT_TOO_COMPLEX';
  reply({ type: 'done', id: job.id, result, externalBytes: getHeapStatistics().external_memory, parserFailed });
});

reply({ type: 'ready' });
