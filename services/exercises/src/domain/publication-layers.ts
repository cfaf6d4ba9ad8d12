import type { ThrowawayQueries } from '../clients/sql-runner.js';

/** Warm instances a publication asks per dataset; sql-runner shares its bounded budget and adds more to popular keys. */
export const WARM_PER_DATASET = 1;

/** The holder a publication's layers are held as in sql-runner. */
export const publicationHolder = (exerciseId: string): string => `exercise:${exerciseId}`;

/**
 * Holds a publication's layers (its start state and every hidden dataset's state): pinned, so eviction never
 * takes them and an attempt never rebuilds them, and kept warm, so an attempt's clones are started instances
 * taken from env-manager's pool (ADR 0044). Replaces what an earlier publication of the exercise held.
 */
export async function holdPublicationLayers(
  grader: ThrowawayQueries,
  exerciseId: string,
  layerKeys: string[],
  requestId?: string,
): Promise<void> {
  if (!grader.hold || layerKeys.length === 0) return;
  await grader.hold(publicationHolder(exerciseId), [...new Set(layerKeys)], WARM_PER_DATASET, requestId);
}

/** Lets go of a publication's layers: unpinned (unless something else holds them) and no longer kept warm. */
export async function releasePublicationLayers(
  grader: ThrowawayQueries,
  exerciseId: string,
  requestId?: string,
): Promise<void> {
  await grader.release?.(publicationHolder(exerciseId), requestId);
}
