/**
 * Settings of every sandbox instance that change query results (collation,
 * time zone, date style, encoding). They are part of K0, so a state built
 * under one value is never served under another.
 */
export const SANDBOX_RESULT_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  server_encoding: 'UTF8',
  lc_collate: 'C.UTF-8',
  lc_ctype: 'C.UTF-8',
  TimeZone: 'UTC',
  DateStyle: 'ISO, MDY',
  IntervalStyle: 'postgres',
  extra_float_digits: '1',
});

/** What identifies the engine a chain's states are built on. */
export interface EngineIdentity {
  /** Server version, e.g. "18.4". */
  version: string;
  settings: Readonly<Record<string, string>>;
}
