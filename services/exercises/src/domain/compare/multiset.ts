import { rowKey, rowsEqual, type TypeFamily } from './result-set.js';

type Row = readonly (string | null)[];

/**
 * A multiset of rows (duplicates counted) that takes rows out one at a
 * time: by exact canonical value first, then, under a numeric tolerance,
 * the first remaining row within it. With a tolerance the matching is
 * greedy (equality within a tolerance is not transitive); result sets are
 * bounded, so the scan is too.
 */
export class RowMultiset {
  private readonly entries = new Map<string, { row: Row; count: number }>();
  private total = 0;

  constructor(
    rows: Iterable<Row>,
    private readonly families: readonly TypeFamily[],
    private readonly tolerance: number,
  ) {
    for (const row of rows) this.add(row);
  }

  get size(): number {
    return this.total;
  }

  add(row: Row): void {
    const key = rowKey(row, this.families);
    const entry = this.entries.get(key);
    if (entry) entry.count++;
    else this.entries.set(key, { row, count: 1 });
    this.total++;
  }

  has(row: Row): boolean {
    return this.find(row) !== undefined;
  }

  /** Takes one row equal to `row` out; false when there is none. */
  take(row: Row): boolean {
    const key = this.find(row);
    if (key === undefined) return false;
    const entry = this.entries.get(key);
    if (!entry) return false;
    if (--entry.count === 0) this.entries.delete(key);
    this.total--;
    return true;
  }

  /** Up to `limit` of the rows left, duplicates repeated. */
  sample(limit: number): Row[] {
    const rows: Row[] = [];
    for (const { row, count } of this.entries.values()) {
      for (let i = 0; i < count && rows.length < limit; i++) rows.push(row);
      if (rows.length >= limit) break;
    }
    return rows;
  }

  private find(row: Row): string | undefined {
    const key = rowKey(row, this.families);
    if (this.entries.has(key)) return key;
    if (this.tolerance <= 0) return undefined;
    for (const [candidate, entry] of this.entries) {
      if (rowsEqual(entry.row, row, this.families, this.tolerance)) return candidate;
    }
    return undefined;
  }
}
