import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, provisionServiceDatabase, type ServiceDatabase } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import {
  type Running,
  type ServiceUrls,
  STATEFUL_SERVICES,
  startLocalGateway,
  startServices,
} from '../src/launcher/services.js';
import { post } from './platform.js';

/** The whole platform in this process, as `npm start` wires it, on a fresh database and data directory. */
export interface TestStack {
  url: string;
  /** Every service's loopback URL, for their /metrics. */
  services: ServiceUrls;
  /** Superuser URL of the stack's control-plane database (every service's schema). */
  databaseUrl: string;
  /** The service token, to call a service directly as another service would. */
  serviceToken: string;
  signIn(): Promise<string>;
  close(): Promise<void>;
}

/** One NDJSON event of a run stream. */
export type Event = Record<string, any> & { type: string };

/** Starts every service with its own buildApp (real PostgreSQL, real layer driver) and the gateway in front. */
export async function startTestStack(): Promise<TestStack> {
  const db: TestDatabase = await createTestDatabase('stack');
  const dataDir = await mkdtemp(join(tmpdir(), 'taidon-stack-'));
  await chmod(dataDir, 0o711);
  const databases: Record<string, ServiceDatabase> = {};
  for (const service of STATEFUL_SERVICES) {
    databases[service] = await provisionServiceDatabase(db.url, service, `pw-${service}-${db.name}`);
  }
  const secrets = {
    serviceToken: `token-${db.name}`,
    sandboxAdminPassword: `admin-${db.name}`,
    rolePasswords: {},
    vcsSyncTokenKey: randomBytes(32).toString('base64'),
  };
  const running: Running = { services: [] };
  const context = {
    dataDir,
    logLevel: 'warn',
    secrets,
    databases,
    superuserUrl: db.url,
    // The gateway's lines are captured, as before; the services log at warn.
    logger: (service: string) =>
      service === 'gateway' ? captureLogger('gateway').logger : createLogger({ service, level: 'warn' }),
  };
  const services = await startServices(context, running);
  const gateway = await startLocalGateway(services, context, running);
  const url = await gateway.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    services,
    databaseUrl: db.url,
    serviceToken: secrets.serviceToken,
    async signIn() {
      return (await post(`${url}/api/auth/anonymous`)).body.accessToken as string;
    },
    async close() {
      for (const service of running.services.reverse()) await service.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Sends a run and reads the whole event stream (or the problem+json answer). */
export async function run(
  stack: TestStack,
  token: string,
  body: Record<string, unknown>,
): Promise<{ status: number; events: Event[]; problem?: any }> {
  const response = await fetch(`${stack.url}/api/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.headers.get('content-type')?.startsWith('application/x-ndjson')) {
    return { status: response.status, events: [], problem: JSON.parse(text) };
  }
  return {
    status: response.status,
    events: text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Event),
  };
}

/** Starts a run and hands back its events as they arrive. */
export async function startRun(
  stack: TestStack,
  token: string,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<{ next(): Promise<Event | undefined>; rest(): Promise<Event[]> }> {
  const response = await fetch(`${stack.url}/api/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const next = async (): Promise<Event | undefined> => {
    for (;;) {
      const newline = buffer.indexOf('\n');
      if (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line) return JSON.parse(line) as Event;
        continue;
      }
      const chunk = await reader.read();
      if (chunk.done) return undefined;
      buffer += decoder.decode(chunk.value, { stream: true });
    }
  };
  return {
    next,
    async rest() {
      const events: Event[] = [];
      for (let e = await next(); e; e = await next()) events.push(e);
      return events;
    },
  };
}

/** Rows of every `rows` event of one statement. */
export function rowsOf(events: Event[], statement = 0): (string | null)[][] {
  return events.filter((e) => e.type === 'rows' && e.statement === statement).flatMap((e) => e.rows);
}
