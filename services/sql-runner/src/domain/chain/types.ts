// The shapes of a planned chain, apart from the planner (plan.ts loads the parser; keys.ts and the main
// thread need only these types).

/** One file of a project. */
export interface SourceFile {
  /** POSIX path relative to the project root, e.g. "init/01-schema.sql". */
  path: string;
  sql: string;
  /** false: only reachable through \i / \ir, not executed on its own. Default true. */
  run?: boolean;
}

/** One statement (or \echo) of a chain, keyed and located in its file. */
export interface Step {
  /** 0-based position in the chain. */
  index: number;
  /** libpg-query node name ('SelectStmt', 'CopyStmt', ...), or 'Echo' for \echo. */
  kind: string;
  /** Text the server executes, after :var substitution, without the ending ';'; empty for Echo. */
  sql: string;
  /** For COPY ... FROM STDIN: the data lines, each ending in '\n', without the '\.' line. */
  copyData?: string;
  /** For \echo: the text psql would print. */
  notice?: string;
  /** File the step comes from (the included file, after \i). */
  path: string;
  /** 1-based line of the step's first token. */
  line: number;
  /** 1-based column of the step's first token, in code points. */
  column: number;
  /** UTF-8 byte range in the file, end exclusive: through the ';', or through the '\.' line of COPY data. */
  byteStart: number;
  byteEnd: number;
  /** True when a transaction block is open after this step: not a point to snapshot. */
  opensTransaction: boolean;
  /** State key after this step (hex sha256); Echo steps keep the previous one. */
  key: string;
  /** The canonical text the key hashes, when planned with `keepCanonical` (not for Echo steps). */
  canonical?: string;
  /** Whether a COPY exchanges data with the client: 'in' (FROM STDIN, data in copyData) or 'out' (TO STDOUT). */
  copy?: 'in' | 'out';
}

/** A planned chain: keys from the base state to the last step. */
export interface Chain {
  baseKey: string;
  steps: Step[];
  /** Key after the last step (the base key for an empty chain). */
  finalKey: string;
  formatVersion: number;
}
