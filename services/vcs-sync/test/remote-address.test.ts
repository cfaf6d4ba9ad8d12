import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Git } from '../src/git/git.js';
import { RemoteGit } from '../src/git/remote.js';
import { isPublicAddress, pinRemoteAddress, type Resolver } from '../src/git/remote-address.js';
import { createGitMetrics } from '../src/metrics.js';
import { type GitHttpServer, gitOutside, startGitHttpServer } from './git-http-server.js';

const TOKEN = `tok-${randomBytes(8).toString('hex')}`;
let dir: string;
let server: GitHttpServer;
let teapot: Server;
let teapotPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vcs-address-'));
  server = await startGitHttpServer(join(dir, 'served'), { token: TOKEN });
  // Any HTTP service of the network that is not Git: its status must not reach the caller.
  teapot = createServer((_request, response) => response.writeHead(418).end('internal admin page'));
  await new Promise<void>((resolve) => teapot.listen(0, '127.0.0.1', resolve));
  teapotPort = (teapot.address() as AddressInfo).port;
});
afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => teapot?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** A resolver that knows only the names given, as a DNS server under the test's control. */
function names(table: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (host: string) => {
    asked.push(host);
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

const STRICT = { allowLoopbackHttp: false, allowPrivate: false };

describe('remote addresses', () => {
  it('tells public addresses from loopback, private, link-local, CGNAT, unique local and mapped ones', () => {
    for (const address of ['140.82.112.3', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect([address, isPublicAddress(address)]).toEqual([address, true]);
    }
    const internal = [
      '127.0.0.1',
      '127.1.2.3',
      '10.0.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:a9fe:a9fe',
      '64:ff9b::a00:1',
      'not an address',
    ];
    for (const address of internal) expect([address, isPublicAddress(address)]).toEqual([address, false]);
  });

  it('refuses a name any of whose addresses is internal, unless private networks are allowed; never metadata', async () => {
    const dns = names({
      'kubernetes.default.svc': ['10.96.0.1'],
      'git.example.org': ['140.82.112.3'],
      'split.example.org': ['140.82.112.3', '192.168.0.10'],
      'metadata.example.org': ['169.254.169.254'],
    });
    await expect(pinRemoteAddress('https://kubernetes.default.svc/x.git', STRICT, dns)).rejects.toMatchObject({
      code: 'VCS_SYNC_REMOTE_ADDRESS_REFUSED',
    });
    await expect(pinRemoteAddress('https://split.example.org/x.git', STRICT, dns)).rejects.toMatchObject({
      code: 'VCS_SYNC_REMOTE_ADDRESS_REFUSED',
    });
    expect(await pinRemoteAddress('https://git.example.org:8443/x.git', STRICT, dns)).toEqual({
      host: 'git.example.org',
      port: 8443,
      address: '140.82.112.3',
      family: 4,
    });
    const company = { allowLoopbackHttp: false, allowPrivate: true };
    expect(await pinRemoteAddress('https://kubernetes.default.svc/x.git', company, dns)).toMatchObject({
      address: '10.96.0.1',
      port: 443,
    });
    for (const url of ['https://metadata.example.org/', 'https://127.0.0.1/x.git', 'https://[::1]/x.git']) {
      await expect(pinRemoteAddress(url, company, dns)).rejects.toMatchObject({
        code: 'VCS_SYNC_REMOTE_ADDRESS_REFUSED',
      });
    }
    await expect(pinRemoteAddress('https://nowhere.invalid/x.git', STRICT, dns)).rejects.toMatchObject({
      code: 'VCS_SYNC_REMOTE_UNREACHABLE',
    });
    // The loopback test flag allows plain http to 127.0.0.1, and nothing else.
    const loopback = { allowLoopbackHttp: true, allowPrivate: false };
    expect(await pinRemoteAddress('http://127.0.0.1:9/x.git', loopback, dns)).toMatchObject({ address: '127.0.0.1' });
    await expect(pinRemoteAddress('https://127.0.0.1:9/x.git', loopback, dns)).rejects.toMatchObject({
      code: 'VCS_SYNC_REMOTE_ADDRESS_REFUSED',
    });
  });

  it('pins git and its probe to the address checked: a name only the checker knows is reached through it', async () => {
    const git = new Git({
      timeoutMs: 10_000,
      processesMax: 4,
      outputMaxBytes: 1 << 20,
      homeDir: dir,
      metrics: createGitMetrics(),
    });
    const project = join(dir, 'project');
    execFileSync('git', ['init', '-q', '-b', 'main', project]);
    const served = server.bare('pinned');
    const seed = join(dir, 'seed');
    gitOutside(dir, 'clone', '-q', join(server.root, 'pinned.git'), seed);
    gitOutside(seed, 'commit', '-q', '--allow-empty', '-m', 'first');
    gitOutside(seed, 'push', '-q', 'origin', 'main');
    // `repo.test` resolves nowhere but in this resolver: git reaches it only through the pin.
    const dns = names({ 'repo.test': ['127.0.0.1'] });
    const url = served.replace('127.0.0.1', 'repo.test');
    const remote = new RemoteGit(git, { allowLoopbackHttp: true, allowFile: false, allowPrivate: true }, 10_000, dns);
    expect(await remote.defaultBranch(project, { url, token: TOKEN })).toMatchObject({ branch: 'main' });
    // A wrong token: the probe that explains the failure reaches the same pinned server.
    await expect(remote.branchCommit(project, { url, token: 'wrong' }, 'main')).rejects.toMatchObject({
      code: 'VCS_SYNC_REMOTE_AUTH_FAILED',
    });
    expect(dns.asked).toEqual(['repo.test', 'repo.test']);
    // Without the loopback flag: the same name is refused before git runs.
    const strict = new RemoteGit(git, { allowLoopbackHttp: false, allowFile: false, allowPrivate: true }, 10_000, dns);
    const before = server.requests.length;
    await expect(strict.defaultBranch(project, { url, token: TOKEN })).rejects.toMatchObject({
      code: 'VCS_SYNC_REMOTE_ADDRESS_REFUSED',
    });
    expect(server.requests.length).toBe(before);
  });

  it('does not tell the caller what status a host that is not Git answered', async () => {
    const git = new Git({
      timeoutMs: 10_000,
      processesMax: 4,
      outputMaxBytes: 1 << 20,
      homeDir: dir,
      metrics: createGitMetrics(),
    });
    const remote = new RemoteGit(git, { allowLoopbackHttp: true, allowFile: false, allowPrivate: false }, 10_000);
    const refused = (await remote
      .branchCommit(join(dir, 'project'), { url: `http://127.0.0.1:${teapotPort}/x.git` }, 'main')
      .then(
        () => undefined,
        (error: unknown) => error,
      )) as { code: string; message: string; details?: unknown } | undefined;
    expect(refused).toMatchObject({ code: 'VCS_SYNC_REMOTE_UNREACHABLE' });
    expect(JSON.stringify([refused?.message, refused?.details ?? null])).not.toContain('418');
  });
});
