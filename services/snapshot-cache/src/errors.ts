import { DomainError, KIT_ERROR_CODES, NotFoundError } from '@taidon/kit';

/** The filesystem of layers and volumes has no room left (507 Insufficient Storage). */
export class DiskFullError extends DomainError {
  constructor(cause?: unknown) {
    // The message is fixed: a 5xx body must not echo the command's stderr, which stays in `cause` for the log.
    super('SNAPSHOT_CACHE_DISK_FULL', 'The storage of layers and volumes is full.', { statusCode: 507, cause });
  }
}

/** No layer is recorded under the key. */
export class LayerNotFoundError extends NotFoundError {
  constructor(key: string) {
    super('SNAPSHOT_CACHE_LAYER_NOT_FOUND', `No layer has the key ${key}.`, { key });
  }
}

/** No volume is recorded under the id. */
export class VolumeNotFoundError extends NotFoundError {
  constructor(id: string) {
    super('SNAPSHOT_CACHE_VOLUME_NOT_FOUND', `No volume has the id ${id}.`, { volumeId: id });
  }
}

/** The layer still has volumes cloned from it, which would lose their data. */
export class LayerInUseError extends DomainError {
  constructor(key: string, liveClones: number) {
    super('SNAPSHOT_CACHE_LAYER_IN_USE', `The layer ${key} has ${liveClones} live clone(s).`, {
      statusCode: 409,
      details: { key, liveClones },
    });
  }
}

/** The layer is pinned; unpin it first. */
export class LayerPinnedError extends DomainError {
  constructor(key: string) {
    super('SNAPSHOT_CACHE_LAYER_PINNED', `The layer ${key} is pinned.`, { statusCode: 409, details: { key } });
  }
}

/** Every code snapshot-cache answers with; each is documented in services/snapshot-cache/README.md (checked by a test). */
export const SNAPSHOT_CACHE_ERROR_CODES: Record<string, string> = {
  ...KIT_ERROR_CODES,
  SNAPSHOT_CACHE_LAYER_NOT_FOUND: 'No layer is recorded under the key (never built, or evicted).',
  SNAPSHOT_CACHE_VOLUME_NOT_FOUND: 'No volume is recorded under the id.',
  SNAPSHOT_CACHE_LAYER_IN_USE: 'The layer has live clones (volumes cloned from it); destroy them first.',
  SNAPSHOT_CACHE_LAYER_PINNED: 'The layer is pinned; unpin it before deleting it.',
  SNAPSHOT_CACHE_DISK_FULL: 'The filesystem of layers and volumes has no space left; nothing half-written was kept.',
};
