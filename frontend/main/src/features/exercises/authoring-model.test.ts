import { describe, expect, it } from 'vitest';
import { draftRequestOf, EMPTY_DRAFT, fieldsOf, withEquivalentMutant } from './authoring-model.js';

const filled = {
  ...EMPTY_DRAFT,
  slug: ' top-earner ',
  title: 'Top earner',
  task: 'Name them.',
  setupSql: 'CREATE TABLE t (a int);',
  solution: 'SELECT a FROM t',
};

describe('the authoring form', () => {
  it('makes the draft body, leaving out what keeps the service’s defaults', () => {
    expect(draftRequestOf(filled)).toEqual({
      body: {
        slug: 'top-earner',
        title: 'Top earner',
        task: 'Name them.',
        setup: { sql: 'CREATE TABLE t (a int);' },
        solution: 'SELECT a FROM t',
      },
    });
  });

  it('sends datasets, the comparison and the minimum kill score when given; blank dataset rows are dropped', () => {
    const result = draftRequestOf({
      ...filled,
      datasets: [
        { name: 'ties', sql: 'INSERT INTO t VALUES (1);' },
        { name: ' ', sql: '' },
      ],
      minKillScore: '0.9',
      ordered: 'no',
      columnNames: true,
    });
    expect(result).toMatchObject({
      body: {
        datasets: [{ name: 'ties', sql: 'INSERT INTO t VALUES (1);' }],
        compare: { ordered: false, columnNames: true },
        minKillScore: 0.9,
      },
    });
  });

  it('sends a write exercise’s kind, compared tables, check query and schema', () => {
    const result = draftRequestOf({
      ...filled,
      solution: 'DELETE FROM t WHERE a > 1',
      kind: 'write',
      tables: 't, audit.log',
      check: 'SELECT count(*) FROM t',
      schema: true,
    });
    expect(result).toMatchObject({
      body: { kind: 'write', compare: { tables: ['t', 'audit.log'], check: 'SELECT count(*) FROM t', schema: true } },
    });
    expect(draftRequestOf({ ...filled, tables: 'Bad-Name' })).toHaveProperty('problem');
  });

  it('fills the form from an exercise its author edits, and gives back the same body', () => {
    const body = {
      slug: 'top-earner',
      title: 'Top earner',
      task: 'Name them.',
      kind: 'query' as const,
      setup: { sql: 'CREATE TABLE t (a int);' },
      solution: 'SELECT a FROM t',
      datasets: [{ name: 'ties', sql: 'INSERT INTO t VALUES (1);' }],
      compare: { ordered: false },
      minKillScore: 0.8,
      equivalentMutants: ['DISTINCT added'],
    };
    const authored = {
      ...body,
      id: '00000000-0000-4000-8000-000000000001',
      status: 'draft' as const,
      authorId: '00000000-0000-4000-8000-000000000002',
      createdAt: '2026-01-01T00:00:00Z',
      publishedAt: null,
      report: null,
    };
    expect(draftRequestOf(fieldsOf(authored))).toEqual({ body });
    // Marking a survivor equivalent changes only that list, once per label.
    const marked = withEquivalentMutant(authored, 'ORDER BY key a dropped');
    expect(marked).toEqual({ ...body, equivalentMutants: ['DISTINCT added', 'ORDER BY key a dropped'] });
    expect(withEquivalentMutant(authored, 'DISTINCT added')).toEqual(body);
  });

  it('says what to fix: a bad slug, a dataset without SQL, a score past 1', () => {
    expect(draftRequestOf({ ...filled, slug: 'Top Earner' })).toHaveProperty('problem');
    expect(draftRequestOf({ ...filled, datasets: [{ name: 'ties', sql: ' ' }] })).toHaveProperty('problem');
    expect(draftRequestOf({ ...filled, minKillScore: '1.5' })).toHaveProperty('problem');
  });
});
