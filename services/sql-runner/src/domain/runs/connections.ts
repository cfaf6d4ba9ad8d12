import pg from 'pg';
import type { InstanceInfo } from '../../clients/env-manager.js';
import { sendCancelRequest } from './cancel.js';
import { type ServerNotice, TypeNames } from './execute.js';

/** The open connections of one session to its instance. */
export interface SessionConnection {
  instanceId: string;
  /** The instance as it was when the connection opened. */
  instance: InstanceInfo;
  /** The learner's connection: their SQL runs here, and a transaction they open stays open between runs. */
  learner: pg.Client;
  /** Names result types (an admin connection is opened only for types the learner created). */
  types: TypeNames;
  /**
   * Runs `use` on the runner's own superuser connection to the instance (opened on first use), one user at a
   * time: the disk guard's look and the type lookup may want it at once, and a client takes one query at a time.
   */
  withAdmin<T>(use: (client: pg.Client) => Promise<T>): Promise<T>;
  /** Cancels the statement running on the learner connection (a protocol CancelRequest). */
  cancel(): Promise<void>;
  close(): Promise<void>;
  broken: boolean;
  /** Milliseconds statements ran on the learner connection since the database's size was last looked at (disk-guard.ts). */
  unwatchedMs: number;
  /** Whether the last look at the database's size found it past the cap. */
  overCap: boolean;
  /** Receives the server's notices on the learner connection (RAISE NOTICE, "… does not exist, skipping"); set per statement. */
  onNotice: ((notice: ServerNotice) => void) | undefined;
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
 * Keeps each session's connection open between runs, like psql does, so a
 * learner's open transaction survives from one run to the next. A broken or
 * replaced connection is closed and opened anew on the next run. Only the
 * learner's connection is on the hot path: names of built-in types are
 * shared by all sessions, and cancelling needs no login.
 */
export class SessionConnections {
  private readonly bySession = new Map<string, SessionConnection>();

  /**
   * `builtinTypes`: names of built-in types, shared with other sets (a throwaway clone's set lives for one
   * entry; naming `int4` anew would open an admin connection to every clone, ~20–40 ms each).
   */
  constructor(private readonly builtinTypes = new Map<string, string>()) {}

  get(sessionId: string, instanceId: string): SessionConnection | undefined {
    const open = this.bySession.get(sessionId);
    return open && !open.broken && open.instanceId === instanceId ? open : undefined;
  }

  /**
   * The session's connection to `instance`: the open one, else `prepared`
   * (a learner connection already open to that instance), else a new one.
   */
  async open(sessionId: string, instance: InstanceInfo, prepared?: pg.Client): Promise<SessionConnection> {
    const existing = this.get(sessionId, instance.id);
    if (existing) {
      if (prepared) void prepared.end().catch(() => {});
      return existing;
    }
    await this.drop(sessionId);
    const base = { host: instance.host, port: instance.port, database: instance.database };
    let connection: SessionConnection | undefined;
    const markBroken = () => {
      if (connection) connection.broken = true;
    };
    let learner: pg.Client;
    if (prepared) {
      prepared.removeAllListeners('error').removeAllListeners('end');
      prepared.on('error', markBroken);
      prepared.on('end', markBroken);
      learner = prepared;
    } else {
      learner = await connect({ ...base, user: instance.user, application_name: 'taidon-learner' }, markBroken);
    }
    let catalog: Promise<pg.Client> | undefined;
    const admin = () => {
      catalog ??= connect(
        { ...base, user: instance.admin.user, password: instance.admin.password, application_name: 'taidon-runner' },
        () => {
          catalog = undefined;
        },
      );
      return catalog;
    };
    let adminTurn: Promise<unknown> = Promise.resolve();
    const withAdmin = <T>(use: (client: pg.Client) => Promise<T>): Promise<T> => {
      const turn = adminTurn.then(async () => use(await admin()));
      adminTurn = turn.catch(() => {});
      return turn;
    };
    learner.on('notice', (notice) => connection?.onNotice?.(notice));
    const keys = learner as unknown as { processID?: number; secretKey?: number };
    connection = {
      instanceId: instance.id,
      instance,
      learner,
      types: new TypeNames(withAdmin, this.builtinTypes),
      withAdmin,
      broken: false,
      unwatchedMs: 0,
      overCap: false,
      onNotice: undefined,
      async cancel() {
        if (keys.processID && keys.secretKey !== undefined) {
          await sendCancelRequest(instance.host, instance.port, keys.processID, keys.secretKey);
        }
      },
      async close() {
        const opened = catalog;
        await Promise.all([learner.end().catch(() => {}), opened?.then((c) => c.end()).catch(() => {})]);
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
