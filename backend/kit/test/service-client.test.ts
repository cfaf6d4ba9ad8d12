import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBaseApp } from '../src/base-app.js';
import { callService, currentRequestId, detached } from '../src/service-client.js';
import { captureLogger } from '../src/testing/logs.js';

// The request id a hop carries: the request being served, as far as its awaits reach; never the request
// that merely triggered background work (a warm-pool refill after a take, a batch flushed later).

describe('the request id on service hops', () => {
  let sibling: FastifyInstance;
  let caller: FastifyInstance;
  const seen: string[] = [];
  let background: Promise<unknown> | undefined;

  beforeAll(async () => {
    sibling = createBaseApp({ service: 'sibling', logger: captureLogger('sibling').logger });
    sibling.get('/echo', async (request) => {
      seen.push(request.id);
      return {};
    });
    const siblingUrl = await sibling.listen({ host: '127.0.0.1', port: 0 });
    const endpoint = { name: 'sibling', baseUrl: siblingUrl, serviceToken: 't', timeoutMs: 5_000 };
    caller = createBaseApp({ service: 'caller', logger: captureLogger('caller').logger });
    caller.get('/work', async () => {
      await callService(endpoint, '/echo');
      // Triggered here, run later: once detached, once not.
      background = new Promise((resolve) => {
        detached(() => setTimeout(() => resolve(callService(endpoint, '/echo')), 10));
      });
      return {};
    });
  });
  afterAll(async () => {
    await caller?.close();
    await sibling?.close();
  });

  it('carries the served request id, and an id of its own into work detached from it', async () => {
    const answer = await caller.inject({ method: 'GET', url: '/work', headers: { 'x-request-id': 'req-one' } });
    expect(answer.statusCode).toBe(200);
    await background;
    expect(seen[0]).toBe('req-one');
    // The background call carried the background pass's own id, which the sibling took.
    expect(seen[1]).toMatch(/^background-[0-9a-f-]{36}$/);
  });
});

// A service whose every hop names its request id (the gateway, idp) or that calls no other service
// (user-profile, audit-log, snapshot-cache) runs without the context: an AsyncLocalStorage once used makes
// Node 20 run a hook on every promise of the process (issue 22).
describe('an app built with hopContext false', () => {
  let sibling: FastifyInstance;
  let caller: FastifyInstance;
  const seen: string[] = [];
  const inHandler: Array<string | undefined> = [];

  beforeAll(async () => {
    sibling = createBaseApp({ service: 'sibling', logger: captureLogger('sibling').logger, hopContext: false });
    sibling.get('/echo', async (request) => {
      seen.push(request.id);
      return {};
    });
    const siblingUrl = await sibling.listen({ host: '127.0.0.1', port: 0 });
    const endpoint = { name: 'sibling', baseUrl: siblingUrl, serviceToken: 't', timeoutMs: 5_000 };
    caller = createBaseApp({ service: 'caller', logger: captureLogger('caller').logger, hopContext: false });
    caller.get('/work', async (request) => {
      inHandler.push(currentRequestId());
      await callService(endpoint, '/echo', { requestId: request.id });
      return {};
    });
  });
  afterAll(async () => {
    await caller?.close();
    await sibling?.close();
  });

  it('serves requests outside the context, and a hop carries the id the caller names', async () => {
    const answer = await caller.inject({ method: 'GET', url: '/work', headers: { 'x-request-id': 'req-two' } });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['x-request-id']).toBe('req-two');
    expect(inHandler).toEqual([undefined]);
    expect(seen).toEqual(['req-two']);
  });
});
