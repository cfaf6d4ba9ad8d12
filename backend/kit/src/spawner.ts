import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** How a command ended: what runCommand and the spawner's process both report. */
export interface CommandOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Killed for printing more than the request's `maxOutputBytes`. */
  outputExceeded?: boolean;
  stdout: string;
  stderr: string;
}

/** The command itself, as both kinds of request name it. */
interface CommandFields {
  file: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}

/** What the spawner's process is asked to do. */
export type SpawnerRequest =
  | (CommandFields & { id: number; kind: 'run'; input?: string; timeoutMs: number; maxOutputBytes?: number })
  | (CommandFields & {
      id: number;
      kind: 'start';
      /** Appended to by the process's stderr. */
      stderrFile: string;
      /** Niceness the process gets right after exec. */
      nice?: number;
      /**
       * Signal the process gets when the spawner exits, however it exits (and the spawner exits with the process
       * that uses it): a server started this way never runs on without its owner. Through the kernel's
       * parent-death signal where `setpriv` is installed, so even a `kill -9` of the spawner sends it; elsewhere
       * the spawner sends it itself when its parent goes away.
       */
      parentDeathSignal?: NodeJS.Signals;
    });

/** What it answers. */
export type SpawnerReply =
  | ({ id: number; kind: 'done' } & CommandOutcome)
  | { id: number; kind: 'started'; pid: number }
  | { id: number; kind: 'exited' }
  | { id: number; kind: 'error'; message: string };

type Done = Extract<SpawnerReply, { kind: 'done' }>;

/** A detached process the spawner started. */
export interface StartedProcess {
  pid: number;
  /** Resolves when it exits; rejects if the spawner itself went away first (then nobody will tell). */
  exited: Promise<void>;
}

/** The compiled helper; under the test runner (sources) it is the built one next to them. */
function helperPath(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts')
    ? here.replace(/\/src\/spawner\.ts$/, '/dist/spawner-child.js')
    : here.replace(/spawner\.js$/, 'spawner-child.js');
}

/**
 * Starts processes from a small helper process instead of this one. fork()
 * copies the page tables of the process that forks: a service that has
 * loaded the SQL parser's WASM blocks its event loop ~3× longer per spawn
 * than a bare Node process, and under load (hundreds of sandbox servers,
 * btrfs commands for every clone) spawning was the largest single cost of
 * the all-in-one process. The helper exits when this process does, and
 * processes started with `parentDeathSignal` get that signal when it does.
 */
export class Spawner {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: SpawnerReply) => void>();
  private readonly exits = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

  /** Whether the helper is built and can be used. */
  static available(): boolean {
    return existsSync(helperPath());
  }

  /** Runs a command to its end: exit code, output, a timeout. */
  async run(request: Omit<Extract<SpawnerRequest, { kind: 'run' }>, 'id' | 'kind'>): Promise<Done> {
    const answer = await this.ask({ ...request, kind: 'run' });
    if (answer.kind === 'error') throw new Error(answer.message);
    return answer as Done;
  }

  /** Starts a detached process (in its own session) and tells its pid once it runs. */
  async start(request: Omit<Extract<SpawnerRequest, { kind: 'start' }>, 'id' | 'kind'>): Promise<StartedProcess> {
    const id = this.nextId++;
    const exited = new Promise<void>((resolve, reject) => this.exits.set(id, { resolve, reject }));
    exited.catch(() => {});
    const answer = await this.ask({ ...request, kind: 'start' }, id);
    if (answer.kind !== 'started') {
      this.exits.delete(id);
      throw new Error(answer.kind === 'error' ? answer.message : `unexpected answer ${answer.kind}`);
    }
    return { pid: answer.pid, exited };
  }

  /** The helper's pid, while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Disconnects the helper, which exits: processes it started with `parentDeathSignal` get that signal. */
  close(): void {
    this.child?.disconnect();
    this.child = undefined;
  }

  private ask(request: Omit<SpawnerRequest, 'id'>, id = this.nextId++): Promise<SpawnerReply> {
    const child = this.ensure();
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      // Only an unanswered request keeps this process alive for the helper.
      child.channel?.ref();
      child.send({ ...request, id } as SpawnerRequest);
    });
  }

  private ensure(): ChildProcess {
    if (this.child?.connected) return this.child;
    const child = fork(helperPath(), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
    child.on('message', (reply: SpawnerReply) => {
      if (reply.kind === 'exited') {
        this.exits.get(reply.id)?.resolve();
        this.exits.delete(reply.id);
        return;
      }
      const resolve = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) child.channel?.unref();
      resolve?.(reply);
    });
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
      for (const [id, resolve] of this.waiting) resolve({ id, kind: 'error', message: 'the spawner process exited' });
      this.waiting.clear();
      for (const watcher of this.exits.values()) watcher.reject(new Error('the spawner process exited'));
      this.exits.clear();
    });
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }
}

let shared: Spawner | undefined | null;

/** This process's spawner, or null where the helper is not built (then callers spawn themselves). */
export function processSpawner(): Spawner | null {
  if (shared === undefined)
    shared = process.env.TAIDON_SPAWNER === 'off' || !Spawner.available() ? null : new Spawner();
  return shared;
}
