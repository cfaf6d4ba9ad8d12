/** Names of the copy-on-write drivers snapshot-cache knows. */
export type DriverName = 'btrfs' | 'copy' | 'zfs' | 'lvm-thin';

/**
 * One copy-on-write storage backend. A volume is a writable directory (a
 * PostgreSQL data directory lives in it); a layer is an immutable snapshot of
 * a volume, named by its state key; volumes are cloned from layers. Layout:
 * `<rootDir>/volumes/<id>` and `<rootDir>/layers/<layerId>`. Destroying
 * something that is not there is not an error, so callers may retry.
 */
export interface CowDriver {
  readonly name: DriverName;
  /** true when a snapshot of a volume whose server is frozen (SIGSTOP) or idle after CHECKPOINT is safe; copy needs the server stopped */
  readonly atomicSnapshot: boolean;
  /** true when a clone shares the layer's data until written (btrfs, zfs, lvm-thin): one made ahead costs ~nothing */
  readonly cheapClones: boolean;
  /** Directory holding `volumes/` and `layers/`. */
  readonly rootDir: string;
  /** Creates directories, mounts the loop image, enables quotas…; safe to call again. */
  prepare(): Promise<void>;
  /** Unmounts what prepare mounted. */
  close(): Promise<void>;
  /** A new empty writable directory owned by the PostgreSQL OS user (mode 0700); returns its path. */
  createVolume(id: string): Promise<string>;
  /** A read-only layer holding the volume's files; returns its path. */
  snapshotVolume(volumeId: string, layerId: string): Promise<string>;
  /** A writable volume holding the layer's files, same owner; returns its path. */
  cloneLayer(layerId: string, volumeId: string): Promise<string>;
  destroyVolume(id: string): Promise<void>;
  destroyLayer(id: string): Promise<void>;
  volumePath(id: string): string;
  layerPath(id: string): string;
  /**
   * Bytes it occupies on disk. A volume counts what it holds alone (for a
   * fresh clone, ~0: what it has written since); a layer counts everything it
   * references, an upper bound of what deleting it frees, which stays true
   * whatever else is deleted later.
   */
  sizeBytes(kind: 'volume' | 'layer', id: string): Promise<number>;
  /** What is on disk, for reconcile. */
  list(): Promise<{ volumes: string[]; layers: string[] }>;
  /** Size and free space of the filesystem holding the root. */
  capacity(): Promise<{ totalBytes: number; freeBytes: number }>;
  /** Caps the bytes a volume may write beyond the layer it was cloned from, where the filesystem can. */
  limitVolume?(id: string, maxBytes: number): Promise<void>;
}
