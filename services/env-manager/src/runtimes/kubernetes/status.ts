import type { InstanceCondition, InstanceState, TaidonInstance, TaidonInstanceStatus } from './types.js';

// The status the reconciler writes: one state, and the three conditions with
// their reasons, so `kubectl get taidoninstances` shows an operator what the
// platform shows a learner.

/** What the reconciler saw of an instance, in the words of its conditions. */
export interface Observation {
  state: InstanceState;
  ready: { status: boolean; reason: string; message: string };
  progressing: { status: boolean; reason: string; message: string };
  degraded?: { reason: string; message: string };
  node?: string;
  clonePath?: string;
  volume?: string;
  endpoint?: { host: string; port: number };
}

function condition(
  previous: InstanceCondition[] | undefined,
  type: InstanceCondition['type'],
  value: boolean,
  reason: string,
  message: string,
  generation: number,
): InstanceCondition {
  const status = value ? 'True' : 'False';
  const before = previous?.find((c) => c.type === type);
  return {
    type,
    status,
    observedGeneration: generation,
    // The transition time moves only when the status flips, as metav1.Condition means it.
    lastTransitionTime:
      before && before.status === status ? before.lastTransitionTime : new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    reason,
    message,
  };
}

/** The status an observation gives, keeping what placement recorded (node, clone, volume). */
export function statusOf(instance: TaidonInstance, seen: Observation): TaidonInstanceStatus {
  const generation = instance.metadata.generation ?? 0;
  const previous = instance.status?.conditions;
  const status: TaidonInstanceStatus = {
    state: seen.state,
    observedGeneration: generation,
    conditions: [
      condition(previous, 'Ready', seen.ready.status, seen.ready.reason, seen.ready.message, generation),
      condition(
        previous,
        'Progressing',
        seen.progressing.status,
        seen.progressing.reason,
        seen.progressing.message,
        generation,
      ),
      condition(
        previous,
        'Degraded',
        seen.degraded !== undefined,
        seen.degraded?.reason ?? 'AsExpected',
        seen.degraded?.message ?? 'Nothing is wrong.',
        generation,
      ),
    ],
  };
  const node = seen.node ?? instance.status?.node;
  const clonePath = seen.clonePath ?? instance.status?.clonePath;
  const volume = seen.volume ?? instance.status?.volume;
  if (node) status.node = node;
  if (clonePath) status.clonePath = clonePath;
  if (volume) status.volume = volume;
  if (seen.endpoint) status.endpoint = seen.endpoint;
  return status;
}

/** Whether two statuses say the same (so an unchanged one is not written, which would wake every watcher). */
export function sameStatus(a: TaidonInstanceStatus | undefined, b: TaidonInstanceStatus): boolean {
  return canonical(a ?? {}) === canonical(b);
}

/** JSON with keys sorted at every level: the API server answers keys in its own order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
