import { catalogueErrorClass, type ErrorCatalogue, KIT_ERROR_CATALOGUE } from '@taidon/kit';

/**
 * Every code snapshot-cache answers with, its status and its meaning: the
 * error classes below, the README's errors table and test/readme.test.ts all read it.
 */
export const SNAPSHOT_CACHE_ERROR_CODES = {
  ...KIT_ERROR_CATALOGUE,
  SNAPSHOT_CACHE_LAYER_NOT_FOUND: {
    status: 404,
    meaning: 'No layer is recorded under the key (never built, or evicted).',
  },
  SNAPSHOT_CACHE_VOLUME_NOT_FOUND: { status: 404, meaning: 'No volume is recorded under the id.' },
  SNAPSHOT_CACHE_LAYER_IN_USE: {
    status: 409,
    meaning: 'The layer has live clones (volumes cloned from it); destroy them first.',
  },
  SNAPSHOT_CACHE_LAYER_PINNED: { status: 409, meaning: 'The layer is pinned; unpin it before deleting it.' },
  SNAPSHOT_CACHE_DISK_FULL: {
    status: 507,
    meaning: 'The filesystem of layers and volumes has no space left; nothing half-written was kept.',
  },
} as const satisfies ErrorCatalogue;

/** One of snapshot-cache's codes. */
export type SnapshotCacheErrorCode = keyof typeof SNAPSHOT_CACHE_ERROR_CODES;

/** Every error snapshot-cache throws: its code must be in SNAPSHOT_CACHE_ERROR_CODES, whose status it answers with. */
export class SnapshotCacheError extends catalogueErrorClass(SNAPSHOT_CACHE_ERROR_CODES) {}

/** The filesystem of layers and volumes has no room left (507 Insufficient Storage). */
export class DiskFullError extends SnapshotCacheError {
  constructor(cause?: unknown) {
    // The message is fixed: a 5xx body must not echo the command's stderr, which stays in `cause` for the log.
    super('SNAPSHOT_CACHE_DISK_FULL', 'The storage of layers and volumes is full.', { cause });
  }
}

/** No layer is recorded under the key. */
export class LayerNotFoundError extends SnapshotCacheError {
  constructor(key: string) {
    super('SNAPSHOT_CACHE_LAYER_NOT_FOUND', `No layer has the key ${key}.`, { details: { key } });
  }
}

/** No volume is recorded under the id. */
export class VolumeNotFoundError extends SnapshotCacheError {
  constructor(id: string) {
    super('SNAPSHOT_CACHE_VOLUME_NOT_FOUND', `No volume has the id ${id}.`, { details: { volumeId: id } });
  }
}

/** The layer still has volumes cloned from it, which would lose their data. */
export class LayerInUseError extends SnapshotCacheError {
  constructor(key: string, liveClones: number) {
    super('SNAPSHOT_CACHE_LAYER_IN_USE', `The layer ${key} has ${liveClones} live clone(s).`, {
      details: { key, liveClones },
    });
  }
}

/** The layer is pinned; unpin it first. */
export class LayerPinnedError extends SnapshotCacheError {
  constructor(key: string) {
    super('SNAPSHOT_CACHE_LAYER_PINNED', `The layer ${key} is pinned.`, { details: { key } });
  }
}
