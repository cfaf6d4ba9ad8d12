import pg from 'pg';
import type { InstanceInfo } from '../../clients/env-manager.js';
import { TypeNames } from './execute.js';

/** The open connections of one session to its instance. */
export interface SessionConnection {
  instanceId: string;
  /** The instance as it was when the connection opened. */
  instance: InstanceInfo;
  /** The learner's connection: their SQL runs here, and a transaction they open stays open between runs. */
  learner: pg.Client;
  /** Names result types while the learner's connection is busy with a portal. */
  types: TypeNames;
  /** Cancels the statement running on the learner connection (pg_cancel_backend as admin). */
  cancel(): Promise<void>;
  close(): Promise<void>;
  broken: boolean;
}

async function connect(config: pg.ClientConfig, onError: () => void): Promise<pg.Client> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: 5_000 });
  // Listening before connecting: a server going away must mark the connection broken, never crash the process.
  client.on('error', onError);
  client.on('end', onError);
  await client.connect();
  return client;
}

/**
 * Keeps each session's connections open between runs, like psql does, so a
 * learner's open transaction survives from one run to the next. A broken or
 * replaced connection is closed and opened anew on the next run.
 */
export class SessionConnections {
  private readonly bySession = new Map<string, SessionConnection>();

  get(sessionId: string, instanceId: string): SessionConnection | undefined {
    const open = this.bySession.get(sessionId);
    return open && !open.broken && open.instanceId === instanceId ? open : undefined;
  }

  async open(sessionId: string, instance: InstanceInfo): Promise<SessionConnection> {
    const existing = this.get(sessionId, instance.id);
    if (existing) return existing;
    await this.drop(sessionId);
    const base = { host: instance.host, port: instance.port, database: instance.database };
    let broken = false;
    const markBroken = () => {
      broken = true;
      if (connection) connection.broken = true;
    };
    let connection: SessionConnection | undefined;
    const learner = await connect({ ...base, user: instance.user, application_name: 'taidon-learner' }, markBroken);
    const admin = { ...base, user: instance.admin.user, password: instance.admin.password };
    let catalog: pg.Client;
    try {
      catalog = await connect({ ...admin, application_name: 'taidon-runner' }, markBroken);
    } catch (error) {
      await learner.end().catch(() => {});
      throw error;
    }
    connection = {
      instanceId: instance.id,
      instance,
      learner,
      types: new TypeNames(catalog),
      broken,
      async cancel() {
        const pid = (learner as unknown as { processID?: number }).processID;
        if (pid) await catalog.query('SELECT pg_cancel_backend($1)', [pid]);
      },
      async close() {
        await Promise.all([learner.end().catch(() => {}), catalog.end().catch(() => {})]);
      },
    };
    this.bySession.set(sessionId, connection);
    return connection;
  }

  async drop(sessionId: string): Promise<void> {
    const open = this.bySession.get(sessionId);
    this.bySession.delete(sessionId);
    await open?.close();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.bySession.keys()].map((id) => this.drop(id)));
  }
}
