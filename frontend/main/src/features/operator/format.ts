/** How the operator page writes its figures: plain numbers, units a person reads at a glance. */

/** A count with thousands separators; `—` when unknown. */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return Math.round(value).toLocaleString('en-US');
}

/** Seconds as ms under one second, else seconds; `—` when nothing was observed. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 1) return `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1)} ms`;
  return `${seconds.toFixed(2)} s`;
}

/** A ratio of 0..1 as a percentage with one decimal; `—` before any. */
export function formatRatio(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—';
  return `${(ratio * 100).toFixed(1)} %`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes in binary units (1 KiB = 1024 B). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Since when a service's counters count, as a short age ("since 3 min"). */
export function formatSince(startedAt: string | null | undefined, nowMs: number): string {
  if (!startedAt) return '';
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(startedAt)) / 1000));
  if (seconds < 120) return `since ${seconds} s`;
  if (seconds < 7200) return `since ${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `since ${Math.round(seconds / 3600)} h`;
  return `since ${Math.round(seconds / 86_400)} d`;
}
