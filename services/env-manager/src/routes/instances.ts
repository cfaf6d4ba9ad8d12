import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { EnvManagerApi as Api } from '@taidon/contracts';
import { batchRefusalOf } from '@taidon/kit';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { InstanceManager } from '../domain/instances.js';
import { CreationAbandonedError } from '../errors.js';

/** What the instance routes ask of a runtime's instances: the local InstanceManager or the cluster's. */
export type InstanceOperations = Pick<
  InstanceManager,
  | 'create'
  | 'list'
  | 'get'
  | 'snapshot'
  | 'setKey'
  | 'markUsed'
  | 'touch'
  | 'suspend'
  | 'resume'
  | 'resetToTemplate'
  | 'delete'
>;

/** The one optional operation: a runtime without it creates a batch's instances one by one. */
export type BatchOperations = Partial<Pick<InstanceManager, 'createMany'>>;

/**
 * Aborted when the caller gives up before its answer is written (its deadline, a closed connection): its creations
 * leave the creation queue, since under overload an instance nobody waits for any more would take a slot from
 * one somebody does.
 */
function abandonedWith(reply: FastifyReply): AbortSignal {
  const gaveUp = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) gaveUp.abort(new CreationAbandonedError());
  });
  return gaveUp.signal;
}

/**
 * A batch on a runtime that creates one instance at a time: the inputs naming a pooled instance first, all at
 * once, then the others, so an input that names none never takes an instance another input of the batch named
 * (as `createMany` claims the named ones first). Settled one by one.
 */
async function createEach(
  manager: Pick<InstanceManager, 'create'>,
  inputs: Api.CreateInstanceRequest[],
  signal: AbortSignal,
): Promise<PromiseSettledResult<Awaited<ReturnType<InstanceManager['create']>>>[]> {
  const settled: PromiseSettledResult<Awaited<ReturnType<InstanceManager['create']>>>[] = new Array(inputs.length);
  for (const naming of [true, false]) {
    await Promise.all(
      inputs.map(async (input, i) => {
        if (Boolean(input.preferInstanceId) !== naming) return;
        [settled[i]] = await Promise.allSettled([manager.create(input, signal)]);
      }),
    );
  }
  return settled;
}

/** Instances: create, read, list, snapshot, key, touch, suspend, resume, reset, delete. */
export function registerInstanceRoutes(app: FastifyInstance, manager: InstanceOperations & BatchOperations): void {
  // Schemas from contracts, handler types from the schemas: the two cannot disagree.
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const one = { params: Api.InstanceIdParams, response: { 200: Api.Instance } };
  api.post(
    '/instances',
    { schema: { body: Api.CreateInstanceRequest, response: { 201: Api.InstanceInfo } } },
    async (request, reply) => {
      const info = await manager.create(request.body, abandonedWith(reply));
      reply.code(201).header('cache-control', 'no-store');
      return info;
    },
  );
  // Several creates of one caller in one round trip (a grader's clones of one attempt's states, ADR 0056).
  api.post(
    '/instances/batch',
    { schema: { body: Api.CreateInstancesRequest, response: { 200: Api.CreateInstancesAnswer } } },
    async (request, reply) => {
      const { instances } = request.body;
      const signal = abandonedWith(reply);
      const settled = manager.createMany
        ? await manager.createMany(instances, signal)
        : await createEach(manager, instances, signal);
      reply.header('cache-control', 'no-store');
      return {
        answers: settled.map((outcome): Api.CreateInstancesAnswer['answers'][number] => {
          if (outcome.status === 'fulfilled') return { ok: true, instance: outcome.value };
          const refusal = batchRefusalOf(outcome.reason);
          if (refusal) return refusal;
          // Not thrown: the batch's other instances exist, and their callers must be told which they are.
          request.log.error({ err: outcome.reason }, 'an instance of a batch failed');
          return { ok: false, statusCode: 500, code: 'INTERNAL', message: 'An internal error occurred.', details: {} };
        }),
      };
    },
  );
  api.get(
    '/instances',
    { schema: { querystring: Api.InstanceListQuery, response: { 200: Type.Array(Api.Instance) } } },
    async (request) => manager.list(request.query.ownerId),
  );
  api.get('/instances/:id', { schema: one }, async (request) => manager.get(request.params.id));
  api.post(
    '/instances/:id/layers',
    {
      schema: {
        params: Api.InstanceIdParams,
        body: Api.SnapshotRequest,
        response: { 201: Api.SnapshotResult },
      },
    },
    async (request, reply) => {
      reply.code(201);
      return manager.snapshot(request.params.id, request.body);
    },
  );
  api.patch('/instances/:id', { schema: { ...one, body: Api.SetKeyRequest } }, async (request) =>
    manager.setKey(request.params.id, request.body.currentKey),
  );
  // The runner's batch: every instance it ran on since its last call, each with its new key.
  api.post(
    '/instances/touch',
    { schema: { body: Api.TouchInstancesRequest, response: { 200: Api.TouchInstancesAnswer } } },
    async (request) => manager.markUsed(request.body.instances),
  );
  api.post('/instances/:id/touch', { schema: one }, async (request) => manager.touch(request.params.id));
  api.post('/instances/:id/suspend', { schema: one }, async (request) => manager.suspend(request.params.id));
  api.post(
    '/instances/:id/resume',
    { schema: { params: Api.InstanceIdParams, response: { 200: Api.InstanceInfo } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return manager.resume(request.params.id);
    },
  );
  // A reset of the sandbox database from the instance's own template database (ADR 0029).
  api.post(
    '/instances/:id/reset',
    { schema: { params: Api.InstanceIdParams, body: Api.ResetRequest, response: { 200: Api.InstanceInfo } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return manager.resetToTemplate(request.params.id, request.body.key);
    },
  );
  api.delete('/instances/:id', { schema: one }, async (request) => manager.delete(request.params.id));
}
