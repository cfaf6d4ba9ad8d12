import type { Chain, ChainOptions, PlanLimits, SourceFile } from '../domain/chain/index.js';

/** A job the pool posts to a planner worker. */
export interface PlanJobMessage {
  id: number;
  files: SourceFile[];
  options: ChainOptions;
  limits: PlanLimits;
}

/** What a worker posts back: once `ready` (its parser loaded), then one `done` per job. */
export type PlannerReply =
  | { type: 'ready' }
  | {
      type: 'done';
      id: number;
      /** The planned chain, or the error to answer with. */
      result:
        | { ok: true; chain: Chain }
        | { ok: false; error: { code: string; message: string; statusCode: number; details: Record<string, unknown> } }
        | { ok: false; unexpected: string };
      /** The worker's memory outside the JS heap (the parser's WASM heap, which never shrinks). */
      externalBytes: number;
      /** The parser gave up on a statement: its runtime may be unsound, so the worker is replaced. */
      parserFailed: boolean;
    };
