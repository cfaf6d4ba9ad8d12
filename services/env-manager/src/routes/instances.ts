import type { FastifyInstance } from 'fastify';
import type { CreateInstanceInput, InstanceManager } from '../domain/instances.js';
import { CreationAbandonedError } from '../errors.js';
import {
  ConnectionInfoBody,
  CreateInstanceBody,
  CreateLayerBody,
  IdParams,
  InstanceBody,
  PatchInstanceBody,
  TouchInstancesAnswer,
  TouchInstancesBody,
} from './schemas.js';

type IdRoute = { Params: { id: string } };

/** Instances: create, read, list, snapshot, key, touch, suspend, resume, delete. */
export function registerInstanceRoutes(app: FastifyInstance, manager: InstanceManager): void {
  const one = { params: IdParams, response: { 200: InstanceBody } };
  app.post<{ Body: CreateInstanceInput }>(
    '/instances',
    { schema: { body: CreateInstanceBody, response: { 201: ConnectionInfoBody } } },
    async (request, reply) => {
      // A caller that gives up (its deadline, a closed connection) leaves the creation queue: under overload,
      // an instance nobody waits for any more would take a slot from one somebody does.
      const gaveUp = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) gaveUp.abort(new CreationAbandonedError());
      });
      const info = await manager.create(request.body, gaveUp.signal);
      reply.code(201).header('cache-control', 'no-store');
      return info;
    },
  );
  app.get<{ Querystring: { ownerId: string } }>(
    '/instances',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['ownerId'],
          additionalProperties: false,
          properties: { ownerId: { type: 'string', minLength: 1 } },
        },
        response: { 200: { type: 'array', items: InstanceBody } },
      },
    },
    async (request) => manager.list(request.query.ownerId),
  );
  app.get<IdRoute>('/instances/:id', { schema: one }, async (request) => manager.get(request.params.id));
  app.post<IdRoute & { Body: { key: string; parentKey?: string | null; stepCount: number; buildMs: number } }>(
    '/instances/:id/layers',
    {
      schema: {
        params: IdParams,
        body: CreateLayerBody,
        response: {
          201: {
            type: 'object',
            required: ['layer', 'snapshotMs', 'instance'],
            properties: {
              layer: { type: 'object', additionalProperties: true },
              snapshotMs: { type: 'number' },
              instance: InstanceBody,
            },
          },
        },
      },
    },
    async (request, reply) => {
      reply.code(201);
      return manager.snapshot(request.params.id, request.body);
    },
  );
  app.patch<IdRoute & { Body: { currentKey: string } }>(
    '/instances/:id',
    { schema: { ...one, body: PatchInstanceBody } },
    async (request) => manager.setKey(request.params.id, request.body.currentKey),
  );
  // The runner's batch: every instance it ran on since its last call, each with its new key.
  app.post<{ Body: { instances: { id: string; currentKey?: string | null }[] } }>(
    '/instances/touch',
    { schema: { body: TouchInstancesBody, response: { 200: TouchInstancesAnswer } } },
    async (request) => manager.markUsed(request.body.instances),
  );
  app.post<IdRoute>('/instances/:id/touch', { schema: one }, async (request) => manager.touch(request.params.id));
  app.post<IdRoute>('/instances/:id/suspend', { schema: one }, async (request) => manager.suspend(request.params.id));
  app.post<IdRoute>(
    '/instances/:id/resume',
    { schema: { params: IdParams, response: { 200: ConnectionInfoBody } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return manager.resume(request.params.id);
    },
  );
  app.delete<IdRoute>('/instances/:id', { schema: one }, async (request) => manager.delete(request.params.id));
}
