import { EnvManagerApi } from '@taidon/contracts';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, randomKey, SERVICE_TOKEN, type Stack } from '../helpers/stack.js';

let stack: Stack;
const headers = { 'x-taidon-service-token': SERVICE_TOKEN };

beforeAll(async () => {
  stack = await createStack();
});

afterAll(async () => {
  await stack?.close();
});

describe('routes on the contracts of @taidon/contracts', () => {
  it('answers GET /engine as EngineInfo says (templateVersion an integer, settings strings)', async () => {
    const response = await stack.app.inject({ method: 'GET', url: '/engine', headers });
    expect(response.statusCode).toBe(200);
    expect([...Value.Errors(EnvManagerApi.EngineInfo, response.json())]).toEqual([]);
  });

  it('answers warm-pool demand and the touch batch as PoolStatus and TouchInstancesAnswer say', async () => {
    const key = randomKey();
    const demand = await stack.app.inject({ method: 'PUT', url: `/warm-pool/${key}`, headers, payload: { size: 0 } });
    expect(demand.statusCode).toBe(200);
    expect(Value.Check(EnvManagerApi.PoolStatus, demand.json())).toBe(true);
    const id = crypto.randomUUID();
    const touched = await stack.app.inject({
      method: 'POST',
      url: '/instances/touch',
      headers,
      payload: { instances: [{ id, currentKey: key }] },
    });
    expect(touched.json()).toEqual({ updated: [], notLive: [id] });
    expect(Value.Check(EnvManagerApi.TouchInstancesAnswer, touched.json())).toBe(true);
  });

  it('refuses a body the contract does not allow, naming the field', async () => {
    const response = await stack.app.inject({
      method: 'POST',
      url: '/instances',
      headers,
      payload: { ownerId: 'x', layerKey: null, colour: 'red' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    const tooMany = {
      instances: Array.from({ length: EnvManagerApi.MAX_USES_PER_BATCH + 1 }, () => ({ id: crypto.randomUUID() })),
    };
    const batch = await stack.app.inject({ method: 'POST', url: '/instances/touch', headers, payload: tooMany });
    expect(batch.statusCode).toBe(400);
  });
});
