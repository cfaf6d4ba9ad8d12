import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** How soon a lost lock connection is made again. */
const RECONNECT_MS = 1_000;

/**
 * This process's liveness as the control-plane database sees it (ADR 0023): a
 * session-level advisory lock on a random key, held on a connection of its own
 * for as long as the process lives. The runs it admits carry the key; another
 * process's admission that can take the lock knows this one is gone (a killed
 * process's connection closes, and its lock with it), and reclaims its runs at
 * once instead of after their leases.
 */
export class RunnerLock {
  /** The advisory lock's key, a random signed 64-bit integer as text (never reused: a new process draws a new one). */
  readonly key = randomBytes(8).readBigInt64BE().toString();
  private client: pg.Client | undefined;
  private held: Promise<boolean> | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly config: pg.ClientConfig) {}

  /** Whether the lock is held, taking it first if needed; false when the database cannot be reached now. */
  hold(): Promise<boolean> {
    this.held ??= this.take().then(
      () => true,
      () => {
        this.held = undefined; // the next admission tries again
        return false;
      },
    );
    return this.held;
  }

  private async take(): Promise<void> {
    const client = new pg.Client({ ...this.config, application_name: 'taidon-sql-runner-lock', keepAlive: true });
    const lost = () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.held = undefined;
      // Until the lock is held again this process's runs look gone to others: take it back soon, not on the
      // next admission only.
      if (!this.closed) this.retry ??= setTimeout(() => this.again(), RECONNECT_MS).unref();
    };
    client.on('error', lost);
    client.on('end', lost);
    this.client = client;
    try {
      await client.connect();
      await client.query('SELECT pg_advisory_lock($1::bigint)', [this.key]);
    } catch (error) {
      this.client = undefined;
      await client.end().catch(() => {}); // already broken
      throw error;
    }
    if (this.closed) await client.end();
  }

  private again(): void {
    this.retry = undefined;
    if (!this.closed) void this.hold();
  }

  /** Lets go of the lock (the process is closing: its runs have ended). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.held?.catch(() => {});
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {}); // closing anyway
  }
}
