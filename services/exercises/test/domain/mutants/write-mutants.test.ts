import { describe, expect, it } from 'vitest';
import { generateWriteMutants } from '../../../src/domain/mutants/write-mutants.js';
import { loadParser } from '../../../src/domain/sql/tree.js';

await loadParser();

describe('mutants of a write reference', () => {
  it("drops an UPDATE's WHERE, changes its comparison and its literals, and keeps the other statements as written", () => {
    const mutants = generateWriteMutants(
      "UPDATE products SET price = price * 1.10 WHERE category = 'drinks';\nDELETE FROM orders WHERE qty > 5",
    );
    const labels = mutants.map((m) => m.label);
    expect(labels).toEqual(
      expect.arrayContaining([
        'statement 1: WHERE dropped',
        "statement 1: category = 'drinks' → category <> 'drinks' (in WHERE)",
        'statement 2: WHERE dropped',
        'statement 2: qty > 5 → qty >= 5 (in WHERE)',
      ]),
    );
    const dropped = mutants.find((m) => m.label === 'statement 1: WHERE dropped');
    expect(dropped?.sql).toBe('UPDATE products SET price = price * 1.10;\nDELETE FROM orders WHERE qty > 5');
    expect(labels.some((l) => l.startsWith('statement 1:') && l.includes('(in SET)'))).toBe(true);
    expect(new Set(mutants.map((m) => m.sql)).size).toBe(mutants.length);
  });
});
