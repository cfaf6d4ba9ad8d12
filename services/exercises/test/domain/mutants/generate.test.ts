import { beforeAll, describe, expect, it } from 'vitest';
import { generateMutants } from '../../../src/domain/mutants/generate.js';
import { loadParser, parseSelect } from '../../../src/domain/sql/tree.js';

const RICH = `SELECT DISTINCT c.name, count(o.id) AS orders, rank() OVER (ORDER BY sum(o.total) DESC)
  FROM customers c LEFT JOIN orders o ON o.customer_id = c.id AND o.total > 10
 WHERE c.city IS NULL OR coalesce(c.discount, 0) <> 5
 GROUP BY c.name, c.id HAVING sum(o.total) >= 3
 ORDER BY orders DESC, c.name LIMIT 3 OFFSET 1`;

beforeAll(async () => {
  await loadParser();
});

describe('mutants of a reference SELECT', () => {
  it('makes every kind of mutant from the parse tree, each with a label and SQL that parses', () => {
    const mutants = generateMutants(RICH, 1000);
    const labels = mutants.map((m) => m.label);
    expect(new Set(mutants.map((m) => m.operator))).toEqual(
      new Set([
        'join-type',
        'comparison',
        'boolean',
        'distinct',
        'order-by',
        'limit',
        'group-by',
        'aggregate',
        'null-handling',
        'literal',
      ]),
    );
    expect(labels).toEqual(
      expect.arrayContaining([
        'LEFT JOIN orders → INNER JOIN (in FROM)',
        'o.total > 10 → o.total >= 10 (in FROM)',
        'o.customer_id = c.id AND o.total > 10 → o.customer_id = c.id (in FROM)',
        'DISTINCT dropped',
        'ORDER BY dropped',
        'ORDER BY orders DESC → ASC',
        'ORDER BY key c.name dropped',
        'LIMIT 3 → 4',
        'LIMIT 3 → 2',
        'LIMIT dropped',
        'OFFSET 1 → 2',
        'GROUP BY key c.name dropped',
        'HAVING dropped',
        'count(o.id) → count(*) (in SELECT)',
        'count(o.id) → count(DISTINCT o.id) (in SELECT)',
        'sum(o.total) → avg(o.total) (in HAVING)',
        'rank() OVER (ORDER BY sum(o.total) DESC) → dense_rank() OVER (ORDER BY sum(o.total) DESC) (in SELECT)',
        'c.city IS NULL → c.city IS NOT NULL (in WHERE)',
        'COALESCE(c.discount, 0) → c.discount (in WHERE)',
        '10 → 11 (in FROM)',
      ]),
    );
    const changed = mutants.find((m) => m.label === 'LEFT JOIN orders → INNER JOIN (in FROM)');
    expect(changed?.sql).toContain('FROM customers AS c JOIN orders AS o ON');
    for (const mutant of mutants) expect(() => parseSelect(mutant.sql)).not.toThrow();
    expect(new Set(mutants.map((m) => m.sql)).size).toBe(mutants.length);
  });

  it('stops at the cap, taking each kind in turn so none is crowded out', () => {
    const all = generateMutants(RICH, 1000);
    const capped = generateMutants(RICH, 20);
    expect(all.length).toBeGreaterThan(60);
    expect(capped).toHaveLength(20);
    expect(new Set(capped.map((m) => m.operator)).size).toBe(10);
  });

  it('keeps a reference’s FETCH … WITH TIES in its mutants (the deparser alone prints it as LIMIT)', () => {
    const mutants = generateMutants('SELECT name FROM t ORDER BY score DESC FETCH FIRST 1 ROWS WITH TIES', 100);
    const reversed = mutants.find((m) => m.label === 'ORDER BY score DESC → ASC');
    expect(reversed?.sql).toBe('SELECT name FROM t ORDER BY score ASC FETCH FIRST (1) ROWS WITH TIES');
  });

  it('makes no mutant of a literal that is an ORDER BY position or a GROUP BY position', () => {
    const labels = generateMutants('SELECT dept, count(*) FROM t GROUP BY 1 ORDER BY 2 DESC', 100).map((m) => m.label);
    expect(labels.filter((l) => /^\d+ → /.test(l))).toEqual([]);
  });
});
