import { execFileSync, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A loopback smart-HTTP Git server: real `git http-backend` behind a Node server that checks a token. */
export interface GitHttpServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Directory of the bare repositories it serves (`<root>/<name>.git`). */
  root: string;
  /** Makes an empty bare repository `<name>.git` (branch main) and answers its URL. */
  bare(name: string): string;
  /** Requests seen: method, path and whether they carried the right token. */
  requests: { method: string; path: string; authorized: boolean }[];
  /** Milliseconds each answer is held back (to watch the process list during a push). */
  delayMs: number;
  close(): Promise<void>;
}

const GIT_ENV = { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', PATH: process.env.PATH ?? '/usr/bin:/bin' };

/** Whether the request carries `token`, as Basic (any user, the token as password) or Bearer. */
function carriesToken(request: IncomingMessage, token: string): boolean {
  const header = request.headers.authorization ?? '';
  if (header === `Bearer ${token}`) return true;
  if (!header.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1) === token;
}

/**
 * Starts the server. `token` guards every request; with `publicRead`,
 * fetches need none (a public repository) but pushes still do.
 */
export async function startGitHttpServer(
  root: string,
  options: { token: string; publicRead?: boolean },
): Promise<GitHttpServer> {
  await mkdir(root, { recursive: true });
  const backend = join(execFileSync('git', ['--exec-path'], { encoding: 'utf8' }).trim(), 'git-http-backend');
  const state: GitHttpServer = {
    url: '',
    root,
    requests: [],
    delayMs: 0,
    bare(name) {
      execFileSync('git', ['init', '-q', '--bare', '-b', 'main', join(root, `${name}.git`)], { env: GIT_ENV });
      return `${state.url}/${name}.git`;
    },
    close: async () => {},
  };
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const authorized = carriesToken(request, options.token);
    state.requests.push({ method: request.method ?? '', path: url.pathname, authorized });
    const pushing =
      url.searchParams.get('service') === 'git-receive-pack' || url.pathname.endsWith('/git-receive-pack');
    if (!authorized && !(options.publicRead && !pushing)) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="git"', 'content-type': 'text/plain' });
      response.end('token required\n');
      return;
    }
    if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
    const child = spawn(backend, [], {
      env: {
        ...GIT_ENV,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: request.method ?? 'GET',
        CONTENT_TYPE: request.headers['content-type'] ?? '',
        ...(request.headers['content-length'] ? { CONTENT_LENGTH: request.headers['content-length'] } : {}),
        ...(request.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: request.headers['content-encoding'] } : {}),
        ...(request.headers['git-protocol'] ? { GIT_PROTOCOL: request.headers['git-protocol'] as string } : {}),
        REMOTE_USER: authorized ? 'tester' : '',
        REMOTE_ADDR: '127.0.0.1',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    request.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersSent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) {
        response.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else headers[name] = value;
      }
      response.writeHead(status, headers);
      headersSent = true;
      response.write(head.subarray(end + 4));
    });
    child.on('close', () => {
      if (!headersSent) response.writeHead(500);
      response.end();
    });
  };
  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      response.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** Runs git outside vcs-sync (a person at a terminal, or the remote's other clone); answers its stdout. */
export function gitOutside(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Other', '-c', 'user.email=other@example.invalid', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...GIT_ENV, HOME: cwd, GIT_TERMINAL_PROMPT: '0' },
  });
}
