import { canonicalValue, rowKey, rowsEqual, type TypeFamily } from './result-set.js';

type Row = readonly (string | null)[];
type Entry = { row: Row; count: number };

/**
 * A multiset of rows (duplicates counted) that takes rows out one at a
 * time: by exact canonical value first, then, under a numeric tolerance,
 * the first remaining row within it among the rows equal on every
 * non-number column (a bucket), so a tolerance scan stays inside rows
 * that could match. Equality within a tolerance is not transitive, so that
 * matching is greedy.
 */
export class RowMultiset {
  private readonly buckets = new Map<string, Map<string, Entry>>();
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
    const bucket = this.bucketOf(row, true);
    const key = rowKey(row, this.families);
    const entry = bucket?.get(key);
    if (entry) entry.count++;
    else bucket?.set(key, { row, count: 1 });
    this.total++;
  }

  has(row: Row): boolean {
    return this.find(row) !== undefined;
  }

  /** Takes one row equal to `row` out; false when there is none. */
  take(row: Row): boolean {
    const found = this.find(row);
    if (!found) return false;
    const [bucket, key, entry] = found;
    if (--entry.count === 0) bucket.delete(key);
    this.total--;
    return true;
  }

  /** Up to `limit` of the rows left, duplicates repeated. */
  sample(limit: number): Row[] {
    const rows: Row[] = [];
    for (const bucket of this.buckets.values()) {
      for (const { row, count } of bucket.values()) {
        for (let i = 0; i < count && rows.length < limit; i++) rows.push(row);
        if (rows.length >= limit) return rows;
      }
    }
    return rows;
  }

  private bucketOf(row: Row, create: boolean): Map<string, Entry> | undefined {
    const key =
      this.tolerance > 0
        ? JSON.stringify(
            row.map((v, i) =>
              this.families[i] === 'number' ? 0 : canonicalValue(v ?? null, this.families[i] ?? 'other'),
            ),
          )
        : '';
    let bucket = this.buckets.get(key);
    if (!bucket && create) {
      bucket = new Map();
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  private find(row: Row): [Map<string, Entry>, string, Entry] | undefined {
    const bucket = this.bucketOf(row, false);
    if (!bucket) return undefined;
    const key = rowKey(row, this.families);
    const exact = bucket.get(key);
    if (exact) return [bucket, key, exact];
    if (this.tolerance <= 0) return undefined;
    for (const [candidate, entry] of bucket) {
      if (rowsEqual(entry.row, row, this.families, this.tolerance)) return [bucket, candidate, entry];
    }
    return undefined;
  }
}
