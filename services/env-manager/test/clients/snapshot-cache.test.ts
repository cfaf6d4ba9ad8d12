import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSnapshotCacheClient } from '../../src/clients/snapshot-cache.js';
import { EnvManagerError } from '../../src/errors.js';
import { createStack, randomKey, SERVICE_TOKEN, type Stack } from '../helpers/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await createStack();
});

afterAll(async () => {
  await stack?.close();
});

/** snapshot-cache's log lines of one request id. */
function cacheLinesOf(requestId: string): Array<{ reqId?: string; req?: { url?: string; method?: string } }> {
  return stack
    .cacheLines()
    .map((line) => JSON.parse(line) as { reqId?: string; req?: { url?: string; method?: string } })
    .filter((line) => line.reqId === requestId);
}

describe('the snapshot-cache client', () => {
  it('carries the request id given to env-manager to snapshot-cache, whose answer it translates', async () => {
    const requestId = `hop-${randomKey().slice(0, 12)}`;
    const key = randomKey();
    const response = await stack.app.inject({
      method: 'POST',
      url: '/instances',
      headers: { 'x-taidon-service-token': SERVICE_TOKEN, 'x-request-id': requestId },
      payload: { ownerId: 'hop-owner', layerKey: key },
    });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: 'ENV_MANAGER_LAYER_NOT_FOUND', key, requestId });
    // The clone was asked of snapshot-cache under the same id: its log of POST /volumes carries it.
    const hop = cacheLinesOf(requestId);
    expect(hop.some((line) => line.req?.method === 'POST' && line.req.url === '/volumes')).toBe(true);
  });

  it('gives calls outside a request no borrowed id: snapshot-cache makes its own', async () => {
    const before = new Set(stack.cacheLines());
    await stack.snapshotCache.driver();
    const fresh = stack
      .cacheLines()
      .filter((line) => !before.has(line))
      .map((line) => JSON.parse(line) as { reqId?: string; req?: { url?: string } });
    const driverLine = fresh.find((line) => line.req?.url === '/driver');
    expect(driverLine?.reqId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('treats deleting a volume that is already gone as done', async () => {
    await expect(stack.snapshotCache.deleteVolume(crypto.randomUUID())).resolves.toBeUndefined();
  });

  it('answers ENV_MANAGER_SNAPSHOT_CACHE_UNAVAILABLE when snapshot-cache does not answer within its deadline', async () => {
    // A port nothing listens on: the connection is refused at once.
    const client = createSnapshotCacheClient({
      baseUrl: 'http://127.0.0.1:1',
      serviceToken: SERVICE_TOKEN,
      timeoutMs: 2_000,
    });
    const error = await client.driver().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EnvManagerError);
    expect(error).toMatchObject({ code: 'ENV_MANAGER_SNAPSHOT_CACHE_UNAVAILABLE', statusCode: 503 });
  });
});
