import { DomainError } from './errors.js';

/** One call's outcome in a batch: its value, or the error it is rejected with. */
export type BatchOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A request of an internal batch route that its single route would have refused, as the batch answers it. */
export interface BatchRefusalFields {
  ok: false;
  statusCode: number;
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/** The refusal a batch route answers for an item that failed with a DomainError; undefined for any other error. */
export function batchRefusalOf(error: unknown): BatchRefusalFields | undefined {
  if (!(error instanceof DomainError)) return undefined;
  const { statusCode, code, message, details } = error;
  return { ok: false, statusCode, code, message, details: { ...details } };
}

/** The DomainError a caller of the single route would have had, from a batch's refusal (as callService rebuilds it). */
export function errorOfBatchRefusal(refusal: BatchRefusalFields): DomainError {
  return new DomainError(refusal.code, refusal.message, { statusCode: refusal.statusCode, details: refusal.details });
}

interface Pending<In, Out> {
  item: In;
  resolve(value: Out): void;
  reject(error: unknown): void;
}

/**
 * Calls made under the same key in the same turn of the event loop, sent as one batch at its end (`setImmediate`),
 * at most `max` to a batch (ADR 0056: an attempt's datasets, started together, are one request). Each call is
 * answered with its own item's outcome; a batch that fails as a whole rejects every call in it. Rejections are
 * settled before resolutions, so a caller counting its calls in flight sees a call refused while the others of its
 * batch still count as running, as when each was a request of its own whose refusal came back first.
 */
export class TurnBatches<In, Out> {
  private readonly gathering = new Map<string, Pending<In, Out>[]>();

  constructor(
    private readonly max: number,
    private readonly send: (key: string, items: In[]) => Promise<BatchOutcome<Out>[]>,
  ) {}

  call(key: string, item: In): Promise<Out> {
    let batch = this.gathering.get(key);
    if (!batch || batch.length >= this.max) {
      const started: Pending<In, Out>[] = [];
      batch = started;
      this.gathering.set(key, started);
      setImmediate(() => {
        if (this.gathering.get(key) === started) this.gathering.delete(key);
        void this.flush(key, started);
      });
    }
    const joined = batch;
    return new Promise<Out>((resolve, reject) => joined.push({ item, resolve, reject }));
  }

  private async flush(key: string, batch: Pending<In, Out>[]): Promise<void> {
    let outcomes: BatchOutcome<Out>[];
    try {
      outcomes = await this.send(
        key,
        batch.map((p) => p.item),
      );
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      const outcome = outcomes[i];
      if (!outcome) p.reject(new Error(`a batch of ${batch.length} was answered ${outcomes.length} times`));
      else if (!outcome.ok) p.reject(outcome.error);
    });
    batch.forEach((p, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) p.resolve(outcome.value);
    });
  }
}
