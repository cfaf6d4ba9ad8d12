import { describe, expect, it } from 'vitest';
import { newRunView, type RunView } from '../run/run-model.js';
import { changesSchema, formatEstimate, quoteIdent, tableReference } from './schema-model.js';

const finished = (commands: string[], source: 'session' | 'clone' = 'session'): RunView => {
  const run = newRunView({ tail: '', head: '', headOffset: 0, sessionId: 's' });
  run.commands = commands.map((command, statement) => ({ statement, command, rowCount: null }));
  run.done = {
    type: 'done',
    outcome: 'ok',
    source,
    warmPool: false,
    layerKey: null,
    stepsReplayed: 0,
    timings: { planMs: 0, restoreMs: 0, replayMs: 0, executeMs: 0, totalMs: 0 },
  } as unknown as RunView['done'];
  return run;
};

describe('the schema browser', () => {
  it('reads the catalog again after DDL, CREATE TABLE AS, or a run from another state; not after DML on the session', () => {
    expect(changesSchema(finished(['CREATE TABLE']))).toBe(true);
    expect(changesSchema(finished(['INSERT', 'DROP INDEX']))).toBe(true);
    expect(changesSchema(finished(['SELECT']))).toBe(true);
    expect(changesSchema(finished(['INSERT', 'UPDATE']))).toBe(false);
    expect(changesSchema(finished([]))).toBe(false);
    expect(changesSchema(finished([], 'clone'))).toBe(true);
  });

  it('quotes identifiers only where PostgreSQL needs it', () => {
    expect(quoteIdent('orders')).toBe('orders');
    expect(quoteIdent('Orders')).toBe('"Orders"');
    expect(quoteIdent('order')).toBe('"order"');
    expect(quoteIdent('a "b"')).toBe('"a ""b"""');
    expect(tableReference('public', 'user')).toBe('"user"');
    expect(tableReference('shop', 'visits')).toBe('shop.visits');
  });

  it('prints row estimates short', () => {
    expect([0, 999, 1_234, 56_789, 2_500_000, null].map(formatEstimate)).toEqual([
      '0',
      '999',
      '1.2k',
      '57k',
      '2.5M',
      '?',
    ]);
  });
});
