/**
 * A tiny reader of the Prometheus text exposition format, enough for the
 * operator overview (ADR 0038): the services' own `/metrics` answers, never
 * text from strangers. Comments and `# HELP`/`# TYPE` lines are skipped;
 * timestamps are ignored.
 */

/** One sample line: `name{label="value",…} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Samples of one metrics answer, grouped by series name. */
export type Samples = ReadonlyMap<string, readonly Sample[]>;

function unescapeLabelValue(value: string): string {
  return value.replace(/\\(.)/g, (_match, c: string) => (c === 'n' ? '\n' : c));
}

function parseLabels(text: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  const pattern = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;
  let consumed = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    labels[match[1] as string] = unescapeLabelValue(match[2] as string);
    consumed = pattern.lastIndex;
  }
  return text.slice(consumed).trim() === '' ? labels : undefined;
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = Number(text);
  return text !== '' && !Number.isNaN(value) ? value : undefined;
}

/** Reads every sample of `text`; a line it cannot read is skipped rather than failing the whole answer. */
export function parsePrometheusText(text: string): Samples {
  const samples = new Map<string, Sample[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (!name) continue;
    let rest = line.slice(name.length);
    let labels: Record<string, string> | undefined = {};
    if (rest.startsWith('{')) {
      const close = rest.lastIndexOf('}');
      if (close < 0) continue;
      labels = parseLabels(rest.slice(1, close));
      rest = rest.slice(close + 1);
    }
    const value = parseValue(rest.trim().split(/\s+/)[0] ?? '');
    if (!labels || value === undefined) continue;
    const list = samples.get(name) ?? [];
    list.push({ name, labels, value });
    samples.set(name, list);
  }
  return samples;
}

/** Sum of the samples of `name` whose labels pass `where`. */
export function sumOf(samples: Samples, name: string, where: (labels: Record<string, string>) => boolean = () => true) {
  let total = 0;
  for (const sample of samples.get(name) ?? []) if (where(sample.labels)) total += sample.value;
  return total;
}

/** Sums of the samples of `name` by the value of `label`, largest first. */
export function sumBy(samples: Samples, name: string, label: string): { key: string; value: number }[] {
  const sums = new Map<string, number>();
  for (const sample of samples.get(name) ?? []) {
    const key = sample.labels[label];
    if (key !== undefined) sums.set(key, (sums.get(key) ?? 0) + sample.value);
  }
  return [...sums]
    .map(([key, value]) => ({ key, value }))
    .sort((a, b) => b.value - a.value || (a.key < b.key ? -1 : 1));
}

/** A histogram's figures: count, sum and its cumulative buckets by upper bound. */
export interface HistogramFigures {
  count: number;
  sum: number;
  buckets: { le: number; count: number }[];
}

/** The histogram `name` (its `_bucket`, `_sum`, `_count` series) restricted to samples whose labels pass `where`. */
export function histogramOf(
  samples: Samples,
  name: string,
  where: (labels: Record<string, string>) => boolean = () => true,
): HistogramFigures {
  const byBound = new Map<number, number>();
  for (const sample of samples.get(`${name}_bucket`) ?? []) {
    if (!where(sample.labels)) continue;
    const le = parseValue(sample.labels.le ?? '');
    if (le === undefined) continue;
    byBound.set(le, (byBound.get(le) ?? 0) + sample.value);
  }
  return {
    count: sumOf(samples, `${name}_count`, where),
    sum: sumOf(samples, `${name}_sum`, where),
    buckets: [...byBound].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le),
  };
}

/**
 * The q-quantile of a histogram, interpolated linearly within its bucket as
 * Prometheus's histogram_quantile does; a quantile in the +Inf bucket is the
 * largest finite bound. Undefined when nothing was observed.
 */
export function quantileOf(histogram: HistogramFigures, q: number): number | undefined {
  const { buckets } = histogram;
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (!Number.isFinite(bucket.le)) return lowerBound;
      const inBucket = bucket.count - lowerCount;
      return inBucket <= 0 ? bucket.le : lowerBound + ((bucket.le - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}
