import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@taidon/kit';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRY, launchPlatform } from './launch.js';
import { post } from './platform.js';

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

async function startPlatform(dataDir: string, port: number): Promise<Started> {
  const platform = await launchPlatform(dataDir, { PORT: String(port) });
  return { child: platform.child, url: await platform.up, output: platform.output };
}

function stopPlatform(started: Started, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    started.child.once('exit', (code) => resolve(code));
    started.child.kill(signal);
  });
}

/** A seed that takes a while to build, and a head that reads it. */
const SEEDED_RUN = {
  tail: {
    sql: 'CREATE TABLE t (id int PRIMARY KEY, v text);\nINSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 200000) g;',
  },
  head: 'SELECT count(*) FROM t;',
};

async function runEvents(url: string, token: string, body: unknown): Promise<Array<Record<string, any>>> {
  const response = await fetch(`${url}/api/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await response.text())
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/** Processes whose command line mentions `dir`: servers the platform started there. */
async function processesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) found.push(`${pid}: ${cmdline.replace(/\0/g, ' ')}`);
  }
  return found;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start (all-in-one)', () => {
  const cleanup: string[] = [];
  afterAll(async () => {
    for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
  });

  it('serves the platform on PORT, stops cleanly, and finds its state again on the next start', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'taidon-data-'));
    cleanup.push(dataDir);
    const port = await freePort();

    const first = await startPlatform(dataDir, port);
    expect(first.url).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`${first.url}/health/ready`)).status).toBe(200);
    const signIn = await post(`${first.url}/api/auth/anonymous`);
    expect(signIn.status).toBe(201);
    const token: string = signIn.body.accessToken;
    const plan = await post(`${first.url}/api/plan`, { sql: 'select 1' }, { authorization: `Bearer ${token}` });
    expect(plan.status).toBe(200);
    const built = await runEvents(first.url, token, SEEDED_RUN);
    expect(built.at(-2)).toMatchObject({ type: 'complete', rowCount: 1 });
    expect(built.find((e) => e.type === 'rows')?.rows).toEqual([['200000']]);
    expect(built.at(-1)).toMatchObject({ type: 'done', outcome: 'ok', stepsReplayed: 2 });

    // One schema and one unprivileged role per service on the control plane.
    const controlPlane = join(dataDir, 'control-plane');
    const password = (await readFile(join(controlPlane, 'superuser.password'), 'utf8')).trim();
    const pidFile = join(controlPlane, 'data', 'postmaster.pid');
    const [pidLine, , , portLine] = (await readFile(pidFile, 'utf8')).split('\n');
    const pgPid = Number(pidLine);
    expect(alive(pgPid)).toBe(true);
    const admin = new pg.Client({
      connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${portLine}/taidon`,
    });
    await admin.connect();
    const roles = await admin.query(
      `SELECT r.rolname, r.rolsuper, n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = 'idp'`,
    );
    expect(roles.rows).toEqual([{ rolname: 'taidon_idp', rolsuper: false, nspname: 'idp' }]);
    // The one anonymous sign-in: an account in user-profile, a refresh family (its session) in idp.
    expect((await admin.query('SELECT count(*)::int AS n FROM user_profile.accounts')).rows[0].n).toBe(1);
    expect((await admin.query('SELECT count(*)::int AS n FROM idp.refresh_families')).rows[0].n).toBe(1);
    await admin.end();

    expect(await stopPlatform(first, 'SIGTERM'), first.output()).toBe(0);
    expect(alive(pgPid)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
    expect(await readdir(join(controlPlane, 'run'))).toEqual([]);
    // Sandbox instances are stopped too, and the layer store is unmounted.
    expect(await processesUnder(dataDir)).toEqual([]);
    expect((await readFile('/proc/mounts', 'utf8')).includes(dataDir)).toBe(false);

    const second = await startPlatform(dataDir, port);
    try {
      const again = await post(`${second.url}/api/plan`, { sql: 'select 1' }, { authorization: `Bearer ${token}` });
      expect(again.status).toBe(200);
      expect(again.body.finalKey).toBe(plan.body.finalKey);
      // The layer built by the first start serves another learner after the restart.
      const other = (await post(`${second.url}/api/auth/anonymous`)).body.accessToken as string;
      const cached = await runEvents(second.url, other, SEEDED_RUN);
      expect(cached.find((e) => e.type === 'rows')?.rows).toEqual([['200000']]);
      expect(cached.at(-1)).toMatchObject({ type: 'done', outcome: 'ok', source: 'clone', stepsReplayed: 0 });
    } finally {
      expect(await stopPlatform(second, 'SIGINT'), second.output()).toBe(0);
    }
  }, 120_000);

  it('reports every bad variable at once and exits non-zero', async () => {
    const child = spawn(process.execPath, [ENTRY], {
      env: { ...process.env, PORT: 'eighty', LOG_LEVEL: 'warn', TAIDON_DATA_DIR: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(output).toMatch(/PORT: must be an integer/);
  });
});
