import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runCommand, serverBinaries, serverOsUser } from '@taidon/kit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_ADMIN_USER, SANDBOX_DATABASE, SANDBOX_USER } from '../../src/engine/template.js';
import { EMPTY_CLONE_KEY } from '../../src/runtimes/kubernetes/agents.js';
import {
  INIT_CLONE_SCRIPT,
  INITIALISED_MARKER,
  initCloneEnv,
  scramVerifier,
} from '../../src/runtimes/kubernetes/init-clone.js';
import { DATA_MOUNT, DEFAULT_POD_SETTINGS, sandboxPod } from '../../src/runtimes/kubernetes/objects.js';
import type { TaidonInstance } from '../../src/runtimes/kubernetes/types.js';
import type { Runtime } from '../../src/runtimes/runtime.js';
import { createTestRuntime, TEST_ADMIN_PASSWORD, TEST_SETTINGS } from '../helpers/runtime.js';

// The init container's script run for real, as the sandbox's unprivileged
// user, with the server binaries the platform bundles on its PATH (the
// sandbox image has the same initdb and postgres): what a Pod on an empty
// clone does before its server starts. The clone is the user's own directory,
// as the node agent (running as the sandbox's uid) hands it out.

describe('an empty clone made the sandbox template by the init container', () => {
  let env: Awaited<ReturnType<typeof createTestRuntime>>;
  let runtime: Runtime;
  let path: string;
  const user = serverOsUser();
  const settings = { template: TEST_SETTINGS, adminVerifier: scramVerifier(TEST_ADMIN_PASSWORD) };

  const runScript = async (dataDir: string) =>
    runCommand('sh', ['-c', INIT_CLONE_SCRIPT, 'init-clone', dataDir], {
      timeoutMs: 120_000,
      uid: user.uid,
      gid: user.gid,
      cwd: '/',
      env: {
        PATH: `${path}:/usr/bin:/bin`,
        ...Object.fromEntries(initCloneEnv(settings).map((e) => [e.name, e.value])),
      },
    });

  const connect = async (port: number, options: { user: string; database: string; password?: string }) => {
    const client = new pg.Client({ host: '127.0.0.1', port, ...options });
    client.on('error', () => {});
    await client.connect();
    return client;
  };

  beforeAll(async () => {
    env = await createTestRuntime();
    runtime = env.runtime;
    path = dirname((await serverBinaries(undefined, user)).postgres);
  }, 120_000);

  afterAll(async () => {
    await env?.cleanup();
  });

  it('initialises once: the learner on its database, the superuser by the password whose verifier alone the Pod carries', async () => {
    const dataDir = await env.emptyDataDir('empty-clone');
    const started = performance.now();
    await runScript(dataDir);
    console.log(`init container's work on an empty clone: ${Math.round(performance.now() - started)} ms`);
    expect(await readFile(join(dataDir, 'PG_VERSION'), 'utf8')).toMatch(/^18\b/);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect(await readFile(join(dataDir, 'postgresql.conf'), 'utf8')).toContain('taidon sandbox template');
    // Nothing of the password reaches the environment of the script, only the verifier.
    expect(JSON.stringify(initCloneEnv(settings))).not.toContain(TEST_ADMIN_PASSWORD);

    const server = await runtime.start({ instanceId: 'init-clone', dataDir, timeoutMs: 20_000 });
    try {
      const learner = await connect(server.port, { user: SANDBOX_USER, database: SANDBOX_DATABASE });
      const setting = await learner.query('SHOW work_mem');
      expect(setting.rows[0].work_mem).toBe(`${TEST_SETTINGS.workMemKb / 1024}MB`);
      await learner.query('CREATE TABLE kept (n int); INSERT INTO kept VALUES (1)');
      await learner.end();
      const admin = await connect(server.port, {
        user: SANDBOX_ADMIN_USER,
        database: 'postgres',
        password: TEST_ADMIN_PASSWORD,
      });
      expect((await admin.query('SELECT current_setting($1) AS enc', ['server_encoding'])).rows[0].enc).toBe('UTF8');
      await admin.end();
      await expect(
        connect(server.port, { user: SANDBOX_ADMIN_USER, database: 'postgres', password: 'wrong' }),
      ).rejects.toMatchObject({ code: '28P01' });
      // The learner reaches nothing but the sandbox database.
      await expect(connect(server.port, { user: SANDBOX_USER, database: 'postgres' })).rejects.toMatchObject({
        code: '28000',
      });
    } finally {
      await runtime.stop('init-clone', server.pid);
    }

    // A Pod made again on the same clone (a resume, a repair) finds the marker and keeps the learner's work.
    await runScript(dataDir);
    const again = await runtime.start({ instanceId: 'init-clone', dataDir, timeoutMs: 20_000 });
    try {
      const learner = await connect(again.port, { user: SANDBOX_USER, database: SANDBOX_DATABASE });
      expect((await learner.query('SELECT n FROM kept')).rows).toEqual([{ n: 1 }]);
      await learner.end();
    } finally {
      await runtime.stop('init-clone', again.pid);
    }
  }, 180_000);

  it('makes a half-made clone (no marker) again from nothing', async () => {
    const dataDir = await env.emptyDataDir('half-made');
    await writeFile(join(dataDir, 'PG_VERSION'), '18\n');
    await writeFile(join(dataDir, 'left-over'), 'from a Pod killed mid-init');
    await runCommand('chown', ['-R', `${user.uid ?? process.getuid?.()}:${user.gid ?? process.getgid?.()}`, dataDir], {
      timeoutMs: 10_000,
    });
    await runScript(dataDir);
    const files = await readdir(dataDir);
    expect(files).toContain(INITIALISED_MARKER);
    expect(files).not.toContain('left-over');
  }, 120_000);

  it('gives a Pod the init container on an empty clone only, with the main container restrictions', () => {
    const instance = (layerKey: string): TaidonInstance => ({
      apiVersion: 'taidon.dev/v1alpha1',
      kind: 'TaidonInstance',
      metadata: { name: 'i1', namespace: 'sandboxes', uid: 'u1' },
      spec: { layerKey, suspended: false },
    });
    const pod = sandboxPod(instance(EMPTY_CLONE_KEY), { ...DEFAULT_POD_SETTINGS, init: settings });
    const [init] = pod.spec?.initContainers ?? [];
    const [main] = pod.spec?.containers ?? [];
    expect(init).toMatchObject({
      name: 'init-clone',
      image: DEFAULT_POD_SETTINGS.image,
      command: ['sh', '-c', INIT_CLONE_SCRIPT, 'init-clone', DATA_MOUNT],
    });
    expect(init?.securityContext).toEqual(main?.securityContext);
    expect(init?.volumeMounts).toEqual(main?.volumeMounts);
    const onLayer = sandboxPod(instance('a'.repeat(64)), { ...DEFAULT_POD_SETTINGS, init: settings });
    expect(onLayer.spec?.initContainers).toBeUndefined();
  });
});
