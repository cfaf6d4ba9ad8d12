/** Life of an instance (ARCHITECTURE §5); Failed is reachable from every state. */
export const INSTANCE_STATES = [
  'Pending',
  'Creating',
  'Running',
  'Suspended',
  'Deleting',
  'Deleted',
  'Failed',
] as const;

/** One state of the instance state machine. */
export type InstanceState = (typeof INSTANCE_STATES)[number];

const NEXT: Record<InstanceState, readonly InstanceState[]> = {
  Pending: ['Creating', 'Failed'],
  Creating: ['Running', 'Failed'],
  Running: ['Suspended', 'Deleting', 'Failed'],
  Suspended: ['Running', 'Deleting', 'Failed'],
  Deleting: ['Deleted', 'Failed'],
  Deleted: [],
  // A failed instance can still be cleaned up (its volume deleted).
  Failed: ['Deleting'],
};

/** Whether the state machine allows `from → to`. */
export function canTransition(from: InstanceState, to: InstanceState): boolean {
  return NEXT[from].includes(to);
}

/** States `to` may be entered from. */
export function statesLeadingTo(to: InstanceState): InstanceState[] {
  return INSTANCE_STATES.filter((from) => canTransition(from, to));
}
