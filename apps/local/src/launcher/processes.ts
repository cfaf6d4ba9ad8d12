import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { boundToParent } from '@taidon/kit';
import type { Logger } from 'pino';
import type { PlatformService } from './env.js';

/** The entry point a cluster runs for each service: its own dist/server.js. */
export function serviceEntry(service: PlatformService): string {
  const dir = service === 'gateway' ? 'backend/gateway' : `services/${service}`;
  // This file is apps/local/{src,dist}/launcher/processes.{ts,js}: four levels below the repository.
  return fileURLToPath(new URL(`../../../../${dir}/dist/server.js`, import.meta.url));
}

/** One service to run as its own process. */
export interface ProcessSpec {
  name: PlatformService;
  env: NodeJS.ProcessEnv;
  /** Where its /health/ready answers once it is up. */
  readyUrl: string;
  /** Node flags before the entry point (SERVICE_NODE_ARGS: a profiler, an inspector). */
  nodeArgs?: readonly string[];
  /** Runs after the process has stopped at shutdown (waits for what it leaves behind, unmounts). */
  afterStop?: () => Promise<void>;
}

interface Supervised {
  spec: ProcessSpec;
  child?: ChildProcess;
  exited?: Promise<void>;
  restartTimer?: NodeJS.Timeout;
  /** Exits in a row that came soon after a start: the backoff grows with them. */
  quickExits: number;
  startedAt: number;
}

/** A child that ran this long before dying is restarted at once again (its backoff is reset). */
const STABLE_MS = 30_000;
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 15_000;
/** How long a service has to answer /health/ready, at start and after a restart. */
const READY_TIMEOUT_MS = 120_000;
/** How long a service has to close on SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The platform's services as child processes: started one after the other (each once the previous answers
 * /health/ready), restarted with a growing backoff when one dies, stopped in reverse order.
 *
 * Each child runs under `setpriv --pdeathsig SIGTERM` (ADR 0024's mechanism), so it closes however the launcher
 * dies, `kill -9` included; it then runs in a process group of its own, so a Ctrl+C at the terminal reaches the
 * launcher alone, which stops the children in order. Without setpriv the children stay in the launcher's group.
 */
export class Supervisor {
  private readonly children: Supervised[] = [];
  private stopping = false;

  constructor(private readonly log: Logger) {}

  /** Starts one service and waits until it is ready; a child that exits before that, or a stop, fails the start. */
  async start(spec: ProcessSpec): Promise<void> {
    if (this.stopping) throw new Error('stopping');
    const entry: Supervised = { spec, quickExits: 0, startedAt: 0 };
    this.children.push(entry);
    this.spawn(entry);
    await this.ready(entry, true);
  }

  /** Process ids of the running children, by service. */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.children.map((c) => [c.spec.name, c.child?.pid]));
  }

  /**
   * Starts nothing more and stops waiting: a start waiting for its service to be ready fails at once (the child
   * stays, for stop() to end in order), and no exited child is restarted.
   */
  beginStop(): void {
    this.stopping = true;
  }

  /** Stops every child in reverse order of start, each with SIGTERM (SIGKILL after STOP_TIMEOUT_MS). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const entry of [...this.children].reverse()) {
      clearTimeout(entry.restartTimer);
      const child = entry.child;
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const stopped = await Promise.race([entry.exited?.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
        if (!stopped) {
          this.log.error({ child: entry.spec.name }, 'did not stop within its time; killed');
          child.kill('SIGKILL');
          await entry.exited;
        }
      }
      await entry.spec.afterStop?.().catch((error: unknown) => {
        this.log.error({ err: error, child: entry.spec.name }, 'cleanup after stop failed');
      });
    }
  }

  private spawn(entry: Supervised): void {
    const { spec } = entry;
    const file = process.execPath;
    const args = [...(spec.nodeArgs ?? []), serviceEntry(spec.name)];
    const bound = boundToParent(file, args, 'SIGTERM');
    const child = spawn(bound?.file ?? file, bound?.args ?? args, {
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: bound !== undefined,
    });
    entry.child = child;
    entry.startedAt = performance.now();
    // A process that could not be started at all (EAGAIN, EMFILE, ENOMEM under pressure) has an 'error' and no
    // 'exit': treated as an exit, so it is restarted with the backoff instead of the error ending the launcher.
    const notStarted = new Promise<Error>((resolve) =>
      child.on('error', (error) => {
        if (child.pid === undefined) resolve(error);
        else this.log.warn({ err: error, child: spec.name }, 'signalling a service failed');
      }),
    );
    entry.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      void notStarted.then(() => resolve());
    });
    void notStarted.then((error) => {
      this.log.error({ err: error, child: spec.name }, 'service could not be started');
      this.exited(entry, child, null, null);
    });
    // pino lines carry `service` already; anything else (a crash's stack trace on stderr) is wrapped so that it does.
    const pass = (stream: NodeJS.ReadableStream, level: number) => {
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
        if (line.startsWith('{') && line.endsWith('}')) process.stdout.write(`${line}\n`);
        else if (line.trim()) {
          process.stdout.write(`${JSON.stringify({ level, time: Date.now(), service: spec.name, msg: line })}\n`);
        }
      });
    };
    if (child.stdout) pass(child.stdout, 30);
    if (child.stderr) pass(child.stderr, 50);
    child.once('exit', (code, signal) => this.exited(entry, child, code, signal));
  }

  private exited(entry: Supervised, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping || entry.child !== child) return;
    const ranMs = performance.now() - entry.startedAt;
    entry.quickExits = ranMs >= STABLE_MS ? 0 : entry.quickExits + 1;
    const delayMs =
      entry.quickExits === 0 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (entry.quickExits - 1));
    this.log.error(
      { child: entry.spec.name, pid: child.pid, code, signal, ranMs: Math.round(ranMs), restartInMs: delayMs },
      'service exited; restarting it',
    );
    entry.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.spawn(entry);
      void this.ready(entry, false).then(
        () => this.log.info({ child: entry.spec.name, pid: entry.child?.pid }, 'service restarted'),
        () => {},
      );
    }, delayMs);
  }

  /** Waits for /health/ready. At start, an exit fails the wait; after a restart, the next restart takes over. */
  private async ready(entry: Supervised, failOnExit: boolean): Promise<void> {
    const child = entry.child;
    const begin = performance.now();
    for (;;) {
      if (this.stopping) throw new Error('stopping');
      if (child !== entry.child || child?.exitCode !== null || child.signalCode !== null) {
        if (failOnExit) throw new Error(`${entry.spec.name} exited during its start (see its lines above)`);
        throw new Error('exited');
      }
      const answer = await fetch(entry.spec.readyUrl, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      await answer?.body?.cancel().catch(() => {});
      if (answer?.ok) return;
      if (performance.now() - begin > READY_TIMEOUT_MS) {
        throw new Error(`${entry.spec.name} not ready within ${READY_TIMEOUT_MS / 1000} s`);
      }
      await sleep(50);
    }
  }
}

/** PostgreSQL servers (`postgres -D <dir>`) whose data directory is under `root`, found in /proc. */
export async function serversUnder(root: string): Promise<number[]> {
  const found: number[] = [];
  const prefix = `${root.replace(/\/+$/, '')}/`;
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const dataDir = argv[argv.indexOf('-D') + 1];
    if (argv[0]?.endsWith('/postgres') && argv.includes('-D') && dataDir?.startsWith(prefix)) found.push(Number(entry));
  }
  return found;
}
