/**
 * EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) as a tree the page draws: per node
 * its own time (its children's taken out), rows estimated against actual
 * with the misestimates marked, buffers, and the costliest nodes flagged.
 * Pure: no DOM, so it is tested over plans from a real PostgreSQL.
 */

/** A node's estimate is marked when actual and estimated rows differ by at least this factor, either way. */
export const MISESTIMATE_FACTOR = 10;
/** A node is among the costliest when its own time (or, without ANALYZE, its own cost) is at least this share of the whole. */
export const COSTLY_SHARE = 0.2;

/** Rows estimated against actual, when they differ by MISESTIMATE_FACTOR or more. */
export interface Misestimate {
  /** actual / estimated (under: the planner expected fewer) or its inverse (over), ≥ 1. */
  factor: number;
  direction: 'under' | 'over';
}

/** Buffer counts of a node that are not zero, as EXPLAIN names them (`shared hit`, `temp written` …). */
export type Buffers = Record<string, number>;

export interface PlanNode {
  /** Position in depth-first order, from 0 (the root). */
  id: number;
  depth: number;
  nodeType: string;
  /** As the text format heads it: "Hash Left Join", "Index Scan using orders_pkey on orders o". */
  label: string;
  /** InitPlan, SubPlan, CTE: how it hangs under its parent when that is not plain input. */
  relationship: string | null;
  /** Conditions and methods: "Filter: (price > 3)", "Sort Method: quicksort  Memory: 25kB". */
  details: string[];
  startupCost: number;
  totalCost: number;
  rowsEstimated: number;
  /** Per loop, as EXPLAIN reports it (PostgreSQL 18 prints fractions); null without ANALYZE. */
  rowsActual: number | null;
  loops: number | null;
  /**
   * Time of this node and everything under it, all loops (ms); under a Gather, the loops of its workers and
   * leader run side by side, so their time counts once (as explain.dalibo.com does); null without ANALYZE.
   */
  totalMs: number | null;
  /** Time of this node alone: its total less its children's (ms, never below 0). */
  selfMs: number | null;
  /** selfMs (or, without ANALYZE, its own cost) over the whole plan's, 0..1. */
  selfShare: number;
  misestimate: Misestimate | null;
  buffers: Buffers;
  /** Among the plan's costliest: its own share is at least COSTLY_SHARE. */
  costly: boolean;
  /** ANALYZE ran the plan but never this node (loops = 0). */
  neverExecuted: boolean;
  children: PlanNode[];
}

/** A trigger's time, as EXPLAIN ANALYZE lists it under the plan (foreign keys' checks are triggers). */
export interface TriggerTime {
  name: string;
  relation: string | null;
  timeMs: number;
  calls: number;
}

export interface PlanTree {
  root: PlanNode;
  /** Every node, depth first: the order the page lists them in. */
  nodes: PlanNode[];
  analyzed: boolean;
  planningMs: number | null;
  executionMs: number | null;
  triggers: TriggerTime[];
}

type Raw = Record<string, unknown>;

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

const JOIN_NAMES: Record<string, string> = { Left: 'Left', Right: 'Right', Full: 'Full', Semi: 'Semi', Anti: 'Anti' };
const AGGREGATE_NAMES: Record<string, string> = {
  Hashed: 'HashAggregate',
  Sorted: 'GroupAggregate',
  Mixed: 'MixedAggregate',
};

/** The node's heading, the way EXPLAIN's text format writes it. */
export function labelOf(node: Raw): string {
  const type = str(node['Node Type']) ?? 'Unknown';
  let name = type;
  if (type === 'Aggregate') name = AGGREGATE_NAMES[str(node.Strategy) ?? ''] ?? 'Aggregate';
  if (type === 'ModifyTable') name = str(node.Operation) ?? type;
  const join = JOIN_NAMES[str(node['Join Type']) ?? ''];
  if (join) name = name.endsWith(' Join') ? `${name.slice(0, -5)} ${join} Join` : `${name} ${join} Join`;
  if (node['Scan Direction'] === 'Backward') name += ' Backward';
  if (node['Parallel Aware'] === true) name = `Parallel ${name}`;
  const index = str(node['Index Name']);
  // A bitmap index scan reads the index alone, so the text format names it "on" the index.
  if (index) name += type === 'Bitmap Index Scan' ? ` on ${index}` : ` using ${index}`;
  const relation = str(node['Relation Name']) ?? str(node['CTE Name']) ?? str(node['Function Name']);
  const alias = str(node.Alias);
  if (relation) name += ` on ${relation}${alias && alias !== relation ? ` ${alias}` : ''}`;
  return name;
}

const DETAIL_KEYS = [
  'Index Cond',
  'Recheck Cond',
  'Hash Cond',
  'Merge Cond',
  'Join Filter',
  'Filter',
  'Rows Removed by Index Recheck',
  'Rows Removed by Join Filter',
  'Rows Removed by Filter',
  'Sort Key',
  'Group Key',
  'Presorted Key',
  'Heap Fetches',
  'Exact Heap Blocks',
  'Lossy Heap Blocks',
  'Index Searches',
  'Subplan Name',
  'Workers Launched',
] as const;

function detailsOf(node: Raw): string[] {
  const out: string[] = [];
  for (const key of DETAIL_KEYS) {
    const value = node[key];
    if (value === undefined || value === null) continue;
    out.push(`${key}: ${Array.isArray(value) ? value.join(', ') : String(value)}`);
  }
  const method = str(node['Sort Method']);
  if (method) {
    const space = num(node['Sort Space Used']);
    out.push(`Sort Method: ${method}${space !== null ? `  ${node['Sort Space Type']}: ${space}kB` : ''}`);
  }
  const buckets = num(node['Hash Buckets']);
  if (buckets !== null) {
    out.push(`Buckets: ${buckets}  Batches: ${node['Hash Batches']}  Memory Usage: ${node['Peak Memory Usage']}kB`);
  }
  return out;
}

const BUFFER_FIELDS: [string, string][] = [
  ['Shared Hit Blocks', 'shared hit'],
  ['Shared Read Blocks', 'shared read'],
  ['Shared Dirtied Blocks', 'shared dirtied'],
  ['Shared Written Blocks', 'shared written'],
  ['Local Hit Blocks', 'local hit'],
  ['Local Read Blocks', 'local read'],
  ['Local Dirtied Blocks', 'local dirtied'],
  ['Local Written Blocks', 'local written'],
  ['Temp Read Blocks', 'temp read'],
  ['Temp Written Blocks', 'temp written'],
];

function buffersOf(node: Raw): Buffers {
  const out: Buffers = {};
  for (const [field, name] of BUFFER_FIELDS) {
    const value = num(node[field]);
    if (value) out[name] = value;
  }
  return out;
}

/** Rows estimated against actual (both per loop); 0 counts as 1, as a plan of 0 rows is still 1 row of work. */
export function misestimateOf(estimated: number, actual: number | null, loops: number | null): Misestimate | null {
  if (actual === null || !loops) return null;
  const e = Math.max(estimated, 1);
  const a = Math.max(actual, 1);
  const factor = a >= e ? a / e : e / a;
  if (factor < MISESTIMATE_FACTOR) return null;
  return { factor, direction: a >= e ? 'under' : 'over' };
}

/**
 * How many processes run the nodes under a Gather (or Gather Merge) at once:
 * its workers and the leader. EXPLAIN reports such a node's time per loop,
 * averaged over the processes, and its loops summed over them, so loops
 * times time counts parallel work as if it ran one process after another.
 */
function processesUnder(raw: Raw): number {
  const workers = num(raw['Workers Launched']) ?? num(raw['Workers Planned']) ?? 0;
  return workers + 1;
}

/**
 * Wall-clock time of a node over all its loops (ms): per loop time × loops, divided among the processes
 * that ran it side by side (never more than its loops: a leader that does not take part ran none).
 */
function totalMsOf(time: number | null, loops: number | null, processes: number): number | null {
  if (time === null || loops === null) return null;
  return (time * loops) / Math.max(1, Math.min(processes, loops));
}

function build(raw: Raw, depth: number, nodes: PlanNode[], processes = 1): PlanNode {
  const loops = num(raw['Actual Loops']);
  const time = num(raw['Actual Total Time']);
  const rowsActual = num(raw['Actual Rows']);
  const node: PlanNode = {
    id: nodes.length,
    depth,
    nodeType: str(raw['Node Type']) ?? 'Unknown',
    label: labelOf(raw),
    relationship: ['InitPlan', 'SubPlan', 'Subquery', 'Member'].includes(str(raw['Parent Relationship']) ?? '')
      ? (str(raw['Subplan Name']) ?? str(raw['Parent Relationship']))
      : null,
    details: detailsOf(raw),
    startupCost: num(raw['Startup Cost']) ?? 0,
    totalCost: num(raw['Total Cost']) ?? 0,
    rowsEstimated: num(raw['Plan Rows']) ?? 0,
    rowsActual,
    loops,
    totalMs: totalMsOf(time, loops, processes),
    selfMs: null,
    selfShare: 0,
    misestimate: misestimateOf(num(raw['Plan Rows']) ?? 0, rowsActual, loops),
    buffers: buffersOf(raw),
    costly: false,
    neverExecuted: loops === 0,
    children: [],
  };
  nodes.push(node);
  const plans = Array.isArray(raw.Plans) ? (raw.Plans as Raw[]) : [];
  const gather = node.nodeType === 'Gather' || node.nodeType === 'Gather Merge';
  const under = gather ? processesUnder(raw) : processes;
  node.children = plans.map((child) => build(child, depth + 1, nodes, under));
  if (node.totalMs !== null) {
    const childrenMs = node.children.reduce((sum, c) => sum + (c.totalMs ?? 0), 0);
    node.selfMs = Math.max(0, node.totalMs - childrenMs);
  }
  return node;
}

/** The first statement's plan of what EXPLAIN (FORMAT JSON) answered: the array it prints, or its one element. */
function planObjectOf(explain: unknown): Raw {
  const first = Array.isArray(explain) ? explain[0] : explain;
  if (typeof first !== 'object' || first === null || typeof (first as Raw).Plan !== 'object') {
    throw new Error('Not an EXPLAIN (FORMAT JSON) plan: no "Plan" object.');
  }
  return first as Raw;
}

/** Builds the tree of an EXPLAIN (FORMAT JSON) answer, with or without ANALYZE and BUFFERS. */
export function planTree(explain: unknown): PlanTree {
  const top = planObjectOf(explain);
  const nodes: PlanNode[] = [];
  const root = build(top.Plan as Raw, 0, nodes);
  const analyzed = root.totalMs !== null;
  // Shares are of the nodes' own times; without ANALYZE, of their own costs (total less the children's).
  const own = (n: PlanNode) =>
    analyzed ? (n.selfMs ?? 0) : Math.max(0, n.totalCost - n.children.reduce((s, c) => s + c.totalCost, 0));
  const whole = nodes.reduce((sum, n) => sum + own(n), 0);
  for (const n of nodes) {
    n.selfShare = whole > 0 ? own(n) / whole : 0;
    n.costly = n.selfShare >= COSTLY_SHARE;
  }
  const triggers = (Array.isArray(top.Triggers) ? (top.Triggers as Raw[]) : []).map((t) => ({
    name: str(t['Trigger Name']) ?? str(t['Constraint Name']) ?? 'trigger',
    relation: str(t.Relation),
    timeMs: num(t.Time) ?? 0,
    calls: num(t.Calls) ?? 0,
  }));
  return {
    root,
    nodes,
    analyzed,
    planningMs: num(top['Planning Time']),
    executionMs: num(top['Execution Time']),
    triggers,
  };
}

/** A duration for the tree: "0.012 ms", "3.7 ms", "1,204 ms". */
export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms).toLocaleString('en')} ms`;
}

/** Rows as EXPLAIN prints them: whole numbers plain, PostgreSQL 18's per-loop fractions with two decimals. */
export function formatRows(rows: number): string {
  return Number.isInteger(rows) ? rows.toLocaleString('en') : rows.toFixed(2);
}
