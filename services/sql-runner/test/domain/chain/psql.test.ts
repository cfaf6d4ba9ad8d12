import { readFileSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadParser, planChain, type Step } from '../../../src/domain/chain/index.js';
import { hasPsql, runPsql, tokens } from './psql.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../fixtures/chain/${name}`, import.meta.url), 'utf8');
const options = { engineVersion: '18' };

async function stepsOf(sql: string): Promise<Step[]> {
  return (await planChain([{ path: 'script.sql', sql }], options)).steps;
}

if (!hasPsql) console.warn('psql not found at /usr/bin/psql: skipping the comparisons with psql');

describe('splitting agrees with psql', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    await loadParser();
    db = await createTestDatabase('chain_psql');
  });
  afterAll(async () => db?.drop());

  const scripts: Record<string, () => string> = {
    'the pg_dump fixture': () => fixture('pg-dump.sql'),
    'the lexing corner cases fixture': () => fixture('tricky.sql'),
    'statements sharing lines, parentheses and string continuation': () =>
      "select (1\n);\nselect 1; select 2;select 'a'\n'b';\nselect $$;$$, $a$ $$ ; $a$; select E'\\\\';\nselect 1 -- ;\n+ 1;",
  };

  for (const [name, script] of Object.entries(scripts)) {
    it.skipIf(!hasPsql)(`splits ${name} into exactly the statements psql sends`, async () => {
      const sql = script();
      const fresh = await createTestDatabase('chain_split');
      try {
        const psql = await runPsql(sql, fresh.url);
        const steps = await stepsOf(sql);
        const sent = psql.queries.map(tokens).filter((q) => q !== '');
        expect(sent.length).toBeGreaterThan(2);
        expect(steps.filter((s) => s.kind !== 'Echo').map((s) => tokens(s.sql))).toEqual(sent);
        expect(psql.stderr).not.toMatch(/ERROR/);
        const echoed = steps.filter((s) => s.kind === 'Echo').map((s) => s.notice ?? '');
        for (const notice of echoed) expect(psql.stdout).toContain(notice);
      } finally {
        await fresh.drop();
      }
    });
  }
});

/** Executes planned steps: SQL through a pg client, COPY through psql fed with exactly the step's data. */
async function execute(steps: Step[], url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const step of steps) {
      if (step.kind === 'Echo') continue;
      if (step.copyData === undefined) {
        await client.query(step.sql);
        continue;
      }
      const result = await runPsql(`${step.sql};\n${step.copyData}\\.\n`, url);
      expect(result.code, result.stderr).toBe(0);
    }
  } finally {
    await client.end();
  }
}

describe('executing planned steps on PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('chain_exec');
  });
  afterAll(async () => db?.drop());

  it('carries COPY data as exactly the bytes between the COPY line and \\.', async () => {
    const sql = fixture('pg-dump.sql');
    const steps = await stepsOf(sql);
    const copies = steps.filter((s) => s.copyData !== undefined);
    expect(copies.map((s) => s.sql)).toEqual([
      'COPY public.items (id, name, note, price) FROM stdin',
      'COPY public.notes (body) FROM stdin',
    ]);
    const bytes = Buffer.from(sql, 'utf8');
    for (const step of copies) {
      const block = bytes.subarray(step.byteStart, step.byteEnd).toString('utf8');
      const header = block.slice(0, block.indexOf('\n') + 1);
      expect(block).toBe(`${header}${step.copyData}\\.\n`);
    }
    expect(copies[0]?.copyData).toBe(
      '1\twidget\thas\\ttab\t9.99\n2\t\\N\tback\\\\slash\t\\N\n3\tquote\'\t"double"\t0.50\n4\tÜnïcödé\tline\\nbreak; -- not a comment\t100.00\n',
    );
  });

  it.skipIf(!hasPsql)('loads the pg_dump fixture step by step with the rows pg_dump wrote', async () => {
    await execute(await stepsOf(fixture('pg-dump.sql')), db.url);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const items = await client.query('SELECT id, name, note, price::text FROM public.items ORDER BY id');
      expect(items.rows).toEqual([
        { id: 1, name: 'widget', note: 'has\ttab', price: '9.99' },
        { id: 2, name: null, note: 'back\\slash', price: null },
        { id: 3, name: "quote'", note: '"double"', price: '0.50' },
        { id: 4, name: 'Ünïcödé', note: 'line\nbreak; -- not a comment', price: '100.00' },
      ]);
      const notes = await client.query('SELECT body FROM public.notes');
      expect(notes.rows.map((r) => r.body)).toEqual([
        "'",
        '"',
        ';',
        '/* not a comment',
        '$$',
        '\\.',
        'echo not a command',
        null,
      ]);
      const pk = await client.query("SELECT conname FROM pg_constraint WHERE conname = 'items_pkey'");
      expect(pk.rowCount).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('runs the corner-case fixture step by step to the expected rows', async () => {
    const fresh = await createTestDatabase('chain_tricky');
    try {
      const steps = await stepsOf(fixture('tricky.sql'));
      await execute(steps.slice(0, -2), fresh.url); // the last two leave a transaction open
      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      try {
        const rows = await client.query('SELECT id, "a;b" AS ab, body FROM "Ünï" ORDER BY id');
        expect(rows.rows).toEqual([
          { id: 1, ab: 'p;1', body: 'in tx' },
          { id: 2, ab: 'p;2', body: "it's; ok" },
          { id: 10, ab: "esc'aped;\\", body: 'x' },
          { id: 11, ab: 'semi;colon', body: 'data' },
          { id: 12, ab: "O'Brien", body: 'v' },
        ]);
      } finally {
        await client.end();
      }
    } finally {
      await fresh.drop();
    }
  });
});
