import { randomUUID } from 'node:crypto';
import type { ProjectTestEvent, ScriptFile } from '@taidon/contracts';
import { SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvManagerClient } from '../../../src/clients/env-manager.js';
import { type ChainOptions, planChain } from '../../../src/domain/chain/index.js';
import { engineIdentity } from '../../../src/domain/engine-info.js';
import { fileOptions, runProjectTests, sourcesFor, testFilesOf } from '../../../src/domain/projects/project-tests.js';
import { ThrowawayClones } from '../../../src/domain/throwaway/clones.js';
import {
  lastOf,
  newAccount,
  type RunStack,
  rowsOf,
  run,
  SERVICE_TOKEN,
  startRunStack,
} from '../../helpers/run-stack.js';

// A project's tests (issue 17) through the domain with a real env-manager and snapshot-cache (copy driver): the
// project's files are given as vcs-sync answers them (init/ and seed/ run, the rest there for includes); the
// route and vcs-sync are in apps/local/test/project-tests.test.ts.

const table = `books_${randomUUID().slice(0, 8)}`;
const FILES: ScriptFile[] = [
  { path: 'init/01-schema.sql', sql: `CREATE TABLE ${table} (id int PRIMARY KEY, title text NOT NULL);\n` },
  { path: 'seed/01-books.sql', sql: `INSERT INTO ${table} VALUES (1, 'Solaris'), (2, 'Kindred'), (3, 'Dune');\n` },
  { path: 'lib/count.sql', sql: `SELECT count(*) FROM ${table};\n`, run: false },
  {
    path: 'test/a-passes.sql',
    sql: `\\ir ../lib/count.sql\nDO $$ BEGIN ASSERT (SELECT count(*) FROM ${table}) = 3; END $$;\n`,
    run: false,
  },
  {
    path: 'test/b-raises.sql',
    sql: `SELECT 1;\nDO $$\nBEGIN\n  RAISE EXCEPTION 'expected % books', 4;\nEND $$;\nSELECT 2;\n`,
    run: false,
  },
  {
    path: 'test/c-asserts.sql',
    sql: `DO $$ BEGIN ASSERT (SELECT count(*) FROM ${table}) = 99, 'count is off'; END $$;\n`,
    run: false,
  },
  { path: 'test/d-writes.sql', sql: `DELETE FROM ${table};\nDROP TABLE ${table};\n`, run: false },
  { path: 'test/e-syntax.sql', sql: `SELECT 1;\nSELEC 2;\n`, run: false },
  { path: 'test/f-missing.sql', sql: `SELECT 1;\n  SELECT nope FROM ${table};\n`, run: false },
  { path: 'test/nested/ignored.sql', sql: 'SELECT 1;\n', run: false },
  { path: 'bench/scan.sql', sql: `SELECT count(*) FROM ${table};\nSELECT pg_sleep(0.05);\n`, run: false },
];

describe('project tests on throwaway clones', () => {
  let stack: RunStack;
  let options: ChainOptions;
  let clones: ThrowawayClones;
  beforeAll(async () => {
    stack = await startRunStack({ warmPoolEmpty: 0 });
    const engine = await new EnvManagerClient({
      name: 'env-manager',
      baseUrl: stack.envManagerUrl,
      serviceToken: SERVICE_TOKEN,
      timeoutMs: 30_000,
    }).engine();
    const identity = engineIdentity(engine);
    options = { engineVersion: identity.version, settings: { ...identity.settings } };
    clones = new ThrowawayClones(stack.runs, { maxPerAccount: 3, maxTotal: 6 });
  }, 180_000);
  afterAll(async () => stack?.close(), 60_000);

  const layers = async () =>
    (
      (await (
        await fetch(`${stack.cacheUrl}/layers`, { headers: { [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN } })
      ).json()) as { key: string; sizeBytes: number }[]
    )
      .map((l) => l.key)
      .sort();
  const liveThrowaways = async () =>
    (await stack.envPool.query("SELECT id FROM instances WHERE owner_role = 'throwaway' AND state <> 'Deleted'")).rows;

  async function testProject(ownerId: string, concurrency = 3): Promise<ProjectTestEvent[]> {
    const tail = await planChain(FILES, options);
    const files = testFilesOf(FILES);
    const reservation = await clones.reserve(ownerId, concurrency);
    const events: ProjectTestEvent[] = [];
    try {
      await runProjectTests(
        stack.runs,
        reservation,
        {
          ownerId,
          requestId: randomUUID(),
          tail,
          files,
          planFile: (path) => planChain(sourcesFor(FILES, path), fileOptions(options, tail)),
        },
        (event) => events.push(event),
        () => false,
      );
    } finally {
      await reservation.release();
    }
    return events;
  }
  /** The tests of a project of `files` (init/, seed/ and one file to test) on `on`'s clones, one at a time. */
  async function testFiles(
    files: ScriptFile[],
    on: ThrowawayClones,
    stopped: (events: ProjectTestEvent[]) => boolean = () => false,
  ): Promise<ProjectTestEvent[]> {
    const tail = await planChain(files, options);
    const ownerId = newAccount();
    const reservation = await on.reserve(ownerId, 1);
    const events: ProjectTestEvent[] = [];
    try {
      await runProjectTests(
        stack.runs,
        reservation,
        {
          ownerId,
          requestId: randomUUID(),
          tail,
          files: testFilesOf(files),
          planFile: (path) => planChain(sourcesFor(files, path), fileOptions(options, tail)),
        },
        (event) => events.push(event),
        () => stopped(events),
      );
    } finally {
      await reservation.release();
    }
    return events;
  }
  const fileEvent = (events: ProjectTestEvent[], path: string) =>
    events.find((e) => e.type === 'file' && e.path === path) as Extract<ProjectTestEvent, { type: 'file' }>;

  it('runs every test and bench file on its own clone: passed, or failed with the statement, its place and SQLSTATE', async () => {
    const events = await testProject(newAccount());
    expect(events[0]).toEqual({
      type: 'started',
      files: [
        { path: 'test/a-passes.sql', kind: 'test' },
        { path: 'test/b-raises.sql', kind: 'test' },
        { path: 'test/c-asserts.sql', kind: 'test' },
        { path: 'test/d-writes.sql', kind: 'test' },
        { path: 'test/e-syntax.sql', kind: 'test' },
        { path: 'test/f-missing.sql', kind: 'test' },
        { path: 'bench/scan.sql', kind: 'bench' },
      ],
    });
    expect(events.find((e) => e.type === 'prepared')).toMatchObject({ source: 'built', stepsReplayed: 2 });
    expect(fileEvent(events, 'test/a-passes.sql')).toMatchObject({ outcome: 'passed', statements: 2 });
    expect(fileEvent(events, 'test/b-raises.sql')).toMatchObject({
      outcome: 'failed',
      statements: 2,
      failure: { sqlstate: 'P0001', message: 'expected 4 books', path: 'test/b-raises.sql', line: 2, column: 1 },
    });
    expect(fileEvent(events, 'test/b-raises.sql').failure?.statement).toContain("RAISE EXCEPTION 'expected % books'");
    expect(fileEvent(events, 'test/c-asserts.sql')).toMatchObject({
      outcome: 'failed',
      failure: { sqlstate: 'P0004', message: 'count is off', line: 1, column: 1 },
    });
    expect(fileEvent(events, 'test/d-writes.sql')).toMatchObject({ outcome: 'passed', statements: 2 });
    expect(fileEvent(events, 'test/e-syntax.sql')).toMatchObject({
      outcome: 'failed',
      statements: 0,
      failure: { sqlstate: '42601', code: 'SQL_RUNNER_SYNTAX_ERROR', path: 'test/e-syntax.sql', line: 2, column: 1 },
    });
    expect(fileEvent(events, 'test/f-missing.sql')).toMatchObject({
      outcome: 'failed',
      statements: 2,
      failure: { sqlstate: '42703', path: 'test/f-missing.sql', line: 2, column: 10 },
    });
    const bench = fileEvent(events, 'bench/scan.sql');
    expect(bench).toMatchObject({ kind: 'bench', outcome: 'passed', statements: 2 });
    expect(bench.statementMs?.map((t) => t.line)).toEqual([1, 2]);
    expect(bench.statementMs?.[1]?.ms).toBeGreaterThanOrEqual(50);
    expect(lastOf(events as any)).toMatchObject({ type: 'done', outcome: 'failed', passed: 3, failed: 4 });
    expect(await liveThrowaways()).toEqual([]);
    expect(clones.inUse).toBe(0);
  });

  it('stops a file that runs past THROWAWAY_USE_MAX_MS in all, though each of its statements is within its own limit', async () => {
    const slow: ScriptFile = {
      path: 'test/g-slow.sql',
      sql: 'SELECT pg_sleep(1);\nSELECT pg_sleep(1);\nSELECT pg_sleep(1);\n',
      run: false,
    };
    const files = [...FILES.filter((f) => !/^(test|bench)\//.test(f.path)), slow];
    const short = new ThrowawayClones(stack.runs, { maxPerAccount: 1, maxTotal: 1, useMaxMs: 1_500 });
    const events = await testFiles(files, short);
    expect(fileEvent(events, 'test/g-slow.sql')).toMatchObject({
      outcome: 'failed',
      statements: 2,
      failure: { code: 'SQL_RUNNER_THROWAWAY_USE_TIMEOUT', sqlstate: '57014', path: 'test/g-slow.sql', line: 2 },
    });
    expect(fileEvent(events, 'test/g-slow.sql').durationMs).toBeLessThan(2_500);
    expect(await liveThrowaways()).toEqual([]);
  });

  it('stops a file between its statements once the client left, giving its clone back', async () => {
    const slow: ScriptFile = {
      path: 'test/h-left.sql',
      sql: 'SELECT pg_sleep(0.6);\nSELECT pg_sleep(0.6);\nSELECT pg_sleep(0.6);\n',
      run: false,
    };
    const files = [...FILES.filter((f) => !/^(test|bench)\//.test(f.path)), slow];
    // The client goes away 300 ms after the state is prepared, during the file's first statement.
    let leftAt = Number.POSITIVE_INFINITY;
    const events = await testFiles(files, clones, (seen) => {
      if (leftAt === Number.POSITIVE_INFINITY && seen.some((e) => e.type === 'prepared')) leftAt = Date.now() + 300;
      return Date.now() > leftAt;
    });
    const left = fileEvent(events, 'test/h-left.sql');
    expect(left).toMatchObject({ outcome: 'failed', failure: { sqlstate: '57014', path: 'test/h-left.sql' } });
    expect(left.statements).toBeLessThan(3);
    expect(left.failure?.message).toMatch(/client left/);
    expect(await liveThrowaways()).toEqual([]);
  });

  it("leaves the chain's layers as they were: a second run is served from them, and the rows are all there", async () => {
    const before = await layers();
    const events = await testProject(newAccount(), 1);
    expect(events.find((e) => e.type === 'prepared')).toMatchObject({ source: 'layer', stepsReplayed: 0 });
    expect(lastOf(events as any)).toMatchObject({ type: 'done', passed: 3, failed: 4 });
    expect(await layers()).toEqual(before);
    // test/d-writes.sql dropped the table on its clone: the layer still has it, with every row.
    const check = await run(stack, newAccount(), {
      tail: { files: FILES.filter((f) => f.run !== false) },
      head: `SELECT count(*) FROM ${table};`,
    });
    expect(lastOf(check)).toMatchObject({ outcome: 'ok', source: 'clone', stepsReplayed: 0 });
    expect(rowsOf(check)).toEqual([['3']]);
  });

  it('ends with the replayed step’s error and outcome error when the chain itself fails, running no file', async () => {
    const broken: ScriptFile[] = [
      { path: 'init/01.sql', sql: 'CREATE TABLE x (id int);\nINSERT INTO nope VALUES (1);\n' },
    ];
    const tail = await planChain(broken, options);
    const reservation = await clones.reserve(newAccount(), 2);
    const events: ProjectTestEvent[] = [];
    try {
      await runProjectTests(
        stack.runs,
        reservation,
        {
          ownerId: 'x',
          requestId: randomUUID(),
          tail,
          files: [{ path: 'test/a.sql', kind: 'test' }],
          planFile: () => planChain([{ path: 'test/a.sql', sql: 'SELECT 1;' }], fileOptions(options, tail)),
        },
        (event) => events.push(event),
        () => false,
      );
    } finally {
      await reservation.release();
    }
    expect(events.find((e) => e.type === 'error')).toMatchObject({ phase: 'replay', sqlstate: '42P01', line: 2 });
    expect(events.some((e) => e.type === 'file')).toBe(false);
    expect(lastOf(events as any)).toMatchObject({ type: 'done', outcome: 'error', passed: 0, failed: 0 });
    expect(await liveThrowaways()).toEqual([]);
  });
});
