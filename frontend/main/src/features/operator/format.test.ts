import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatRatio, formatSeconds, formatSince } from './format.js';

describe('the operator page’s figures', () => {
  it('writes counts, durations, ratios and bytes, and a dash for what is unknown', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(null)).toBe('—');
    expect(formatSeconds(0.0042)).toBe('4.20 ms');
    expect(formatSeconds(0.25)).toBe('250.0 ms');
    expect(formatSeconds(2.5)).toBe('2.50 s');
    expect(formatSeconds(null)).toBe('—');
    expect(formatRatio(0.875)).toBe('87.5 %');
    expect(formatRatio(null)).toBe('—');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(10 * 1024 ** 3)).toBe('10.0 GiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
  });

  it('says since when a service counts', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(formatSince('2026-01-01T11:59:30Z', now)).toBe('since 30 s');
    expect(formatSince('2026-01-01T11:30:00Z', now)).toBe('since 30 min');
    expect(formatSince('2026-01-01T06:00:00Z', now)).toBe('since 6 h');
    expect(formatSince(null, now)).toBe('');
  });
});
