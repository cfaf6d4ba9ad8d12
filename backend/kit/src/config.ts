/**
 * Configuration comes from the environment only, is validated once at start
 * with every bad variable reported together, and is then frozen and passed
 * down. Each variable is declared with a sentence for the operator.
 */

/** One environment variable: how to read it and what it is for. */
export interface EnvVar<T> {
  /** One or two sentences for the operator; rendered in service READMEs. */
  readonly doc: string;
  /** Secrets have no default and are never printed. */
  readonly secret?: boolean;
  /** Turns the raw value (undefined when unset) into T, or throws with the reason. */
  parse(raw: string | undefined): T;
}

type Spec = Record<string, EnvVar<unknown>>;
/** The frozen result of loadConfig for a spec. */
export type ConfigOf<S extends Spec> = { readonly [K in keyof S]: S[K] extends EnvVar<infer T> ? T : never };

/** All the problems of one configuration, listed together. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Reads every variable of `spec` from `env`; throws one ConfigError naming all bad ones. */
export function loadConfig<S extends Spec>(spec: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(spec)) {
    const raw = env[name];
    try {
      out[name] = variable.parse(raw === '' ? undefined : raw);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      const shown = variable.secret || raw === undefined ? '' : ` (got ${JSON.stringify(raw)})`;
      problems.push(`${name}: ${why}${shown}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as ConfigOf<S>;
}

function required<T>(raw: string | undefined, fallback: T | undefined, read: (raw: string) => T): T {
  if (raw === undefined) {
    if (fallback === undefined) throw new Error('is required');
    return fallback;
  }
  return read(raw);
}

/** A string; required unless a default is given. */
export function envString(doc: string, options: { default?: string; secret?: boolean } = {}): EnvVar<string> {
  return { doc, secret: options.secret ?? false, parse: (raw) => required(raw, options.default, (v) => v) };
}

/** A string that may be absent. */
export function envOptional(doc: string, options: { secret?: boolean } = {}): EnvVar<string | undefined> {
  return { doc, secret: options.secret ?? false, parse: (raw) => raw };
}

/** An integer within [min, max]. */
export function envInt(doc: string, options: { default?: number; min?: number; max?: number }): EnvVar<number> {
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  return {
    doc,
    parse: (raw) =>
      required(raw, options.default, (v) => {
        if (!/^-?\d+$/.test(v)) throw new Error('must be an integer');
        const n = Number(v);
        if (n < min || n > max) throw new Error(`must be between ${min} and ${max}`);
        return n;
      }),
  };
}

/** One of a fixed set of words. */
export function envEnum<const T extends string>(
  doc: string,
  values: readonly T[],
  options: { default?: T },
): EnvVar<T> {
  return {
    doc,
    parse: (raw) =>
      required(raw, options.default, (v) => {
        if (!(values as readonly string[]).includes(v)) throw new Error(`must be one of ${values.join(', ')}`);
        return v as T;
      }),
  };
}

/** An absolute http(s) or postgres URL. */
export function envUrl(
  doc: string,
  options: { default?: string; secret?: boolean; protocols?: string[] } = {},
): EnvVar<string> {
  const protocols = options.protocols ?? ['http:', 'https:'];
  return {
    doc,
    secret: options.secret ?? false,
    parse: (raw) =>
      required(raw, options.default, (v) => {
        let url: URL;
        try {
          url = new URL(v);
        } catch {
          throw new Error('must be an absolute URL');
        }
        if (!protocols.includes(url.protocol)) throw new Error(`must use ${protocols.join(' or ')}`);
        return v;
      }),
  };
}
