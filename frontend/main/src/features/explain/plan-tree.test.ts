import { describe, expect, it } from 'vitest';
import join from './fixtures/join.json' with { type: 'json' };
import misestimate from './fixtures/misestimate.json' with { type: 'json' };
import nested from './fixtures/nested.json' with { type: 'json' };
import parallel from './fixtures/parallel.json' with { type: 'json' };
import update from './fixtures/update.json' with { type: 'json' };
import { formatMs, formatRows, labelOf, misestimateOf, planTree } from './plan-tree.js';

// The fixtures are EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of PostgreSQL 18 (their `postgres` field), with
// the text format of the same statement beside them: the labels the tree prints are compared with it.

/** The node headings of the text format, in order ("Hash Join", "Seq Scan on orders o" …). */
const textHeadings = (text: string) =>
  text
    .split('\n')
    .filter((line) => /\(cost=/.test(line))
    .map((line) => line.replace(/^\s*(->\s+)?/, '').replace(/\s+\(cost=.*$/, ''));

describe('the EXPLAIN plan tree', () => {
  it('labels every node as the text format heads it, depth first', () => {
    for (const fixture of [join, nested, misestimate, update]) {
      const tree = planTree([fixture.plan]);
      expect(tree.nodes.map((n) => n.label)).toEqual(textHeadings(fixture.text));
    }
    expect(planTree(join.plan).nodes.map((n) => n.depth)).toEqual([0, 1, 2, 3, 3, 4]);
  });

  it("gives each node its own time (its children's taken out), adding up to the root's", () => {
    const tree = planTree(join.plan);
    expect(tree.analyzed).toBe(true);
    expect(tree.planningMs).toBe(join.plan['Planning Time']);
    expect(tree.executionMs).toBe(join.plan['Execution Time']);
    const sum = tree.nodes.reduce((s, n) => s + (n.selfMs ?? 0), 0);
    expect(sum).toBeCloseTo(tree.root.totalMs ?? 0, 6);
    for (const n of tree.nodes) expect(n.selfMs).toBeGreaterThanOrEqual(0);
    const scan = tree.nodes.find((n) => n.label === 'Seq Scan on orders o');
    expect(scan?.selfMs).toBeCloseTo(scan?.totalMs ?? -1, 6);
    expect(scan?.details).toContain("Filter: (placed > '2026-06-01'::date)");
    expect(scan?.buffers).toEqual({ 'shared hit': 128 });
  });

  it('counts every loop: a node run 200 times weighs 200 times its per-loop time', () => {
    const tree = planTree(misestimate.plan);
    const heap = tree.nodes.find((n) => n.label === 'Bitmap Heap Scan on orders o');
    expect(heap?.loops).toBe(200);
    expect(heap?.rowsActual).toBe(0.2);
    const raw = misestimate.plan.Plan.Plans[0]?.Plans[1];
    expect(heap?.totalMs).toBeCloseTo((raw?.['Actual Total Time'] ?? 0) * 200, 6);
    // The costliest node of this plan: most of the 2 ms is its own, over 200 loops.
    expect(tree.nodes.filter((n) => n.costly).map((n) => n.label)).toContain('Bitmap Heap Scan on orders o');
    expect(tree.nodes.filter((n) => n.costly).every((n) => n.selfShare >= 0.2)).toBe(true);
  });

  it('takes a node under a Gather as run by the workers and the leader at once: its loops are theirs, not one after another', () => {
    // Parallel Seq Scan: loops=3 (2 workers launched and the leader), actual time averaged over the three.
    const tree = planTree(parallel.plan);
    expect(tree.nodes.map((n) => n.label)).toEqual(textHeadings(parallel.text));
    const [gather, scan] = tree.nodes;
    const raw = parallel.plan.Plan.Plans[0];
    expect(scan?.loops).toBe(3);
    expect(scan?.totalMs).toBeCloseTo(raw?.['Actual Total Time'] ?? -1, 6);
    expect(scan?.totalMs ?? Infinity).toBeLessThanOrEqual(gather?.totalMs ?? 0);
    expect(gather?.selfMs).toBeCloseTo((gather?.totalMs ?? 0) - (scan?.totalMs ?? 0), 6);
    const sum = tree.nodes.reduce((s, n) => s + (n.selfMs ?? 0), 0);
    expect(sum).toBeCloseTo(tree.root.totalMs ?? 0, 6);
    expect(scan?.details).toContain('Filter: (value > 99.5)');
  });

  it('marks rows estimated at a tenth or ten times of the actual, either way', () => {
    const tree = planTree(misestimate.plan);
    const byLabel = Object.fromEntries(tree.nodes.map((n) => [n.label, n]));
    // The planner multiplied two selectivities it took as independent: 1 row expected, 200 came.
    expect(byLabel['Seq Scan on customers c']?.misestimate).toEqual({ factor: 200, direction: 'under' });
    expect(byLabel['Nested Loop Semi Join']?.misestimate).toEqual({ factor: 40, direction: 'under' });
    expect(byLabel['Bitmap Index Scan on orders_customer']?.misestimate).toBeNull();
    expect(planTree(join.plan).nodes.every((n) => n.misestimate === null)).toBe(true);
    expect(misestimateOf(2, 0.2, 200)).toBeNull();
    expect(misestimateOf(500, 3, 1)).toEqual({ factor: 500 / 3, direction: 'over' });
    expect(misestimateOf(5, null, null)).toBeNull();
  });

  it("shows an UPDATE as its ModifyTable node named after the operation, with the write's buffers", () => {
    const tree = planTree(update.plan);
    expect(tree.root.label).toBe('Update on orders');
    expect(tree.root.rowsActual).toBe(0);
    expect(tree.root.buffers['shared hit']).toBeGreaterThan(0);
    expect(tree.root.children[0]?.label).toBe('Hash Join');
  });

  it('without ANALYZE, ranks the nodes by their own cost and leaves times out', () => {
    const strip = (node: Record<string, unknown>): Record<string, unknown> => {
      const out = Object.fromEntries(Object.entries(node).filter(([k]) => !k.startsWith('Actual')));
      if (Array.isArray(node.Plans)) out.Plans = node.Plans.map((p) => strip(p as Record<string, unknown>));
      return out;
    };
    const tree = planTree([{ Plan: strip(join.plan.Plan) }]);
    expect(tree.analyzed).toBe(false);
    expect(tree.nodes.every((n) => n.selfMs === null && n.misestimate === null)).toBe(true);
    expect(tree.nodes.some((n) => n.costly)).toBe(true);
    expect(tree.nodes.reduce((s, n) => s + n.selfShare, 0)).toBeCloseTo(1, 6);
  });

  it('refuses what is not a plan, and prints times and rows short', () => {
    expect(() => planTree({ nope: true })).toThrow(/Plan/);
    expect(labelOf({ 'Node Type': 'Hash Join', 'Join Type': 'Left' })).toBe('Hash Left Join');
    expect(
      labelOf({
        'Node Type': 'Index Scan',
        'Scan Direction': 'Backward',
        'Index Name': 'i',
        'Relation Name': 't',
        Alias: 't',
      }),
    ).toBe('Index Scan Backward using i on t');
    expect([0.0123, 3.71, 1204.4].map(formatMs)).toEqual(['0.012 ms', '3.7 ms', '1,204 ms']);
    expect([5456, 0.2].map(formatRows)).toEqual(['5,456', '0.20']);
  });
});
