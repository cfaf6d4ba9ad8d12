-- Layers: immutable copy-on-write snapshots of a data directory, named by the
-- state key (sha256 of the SQL chain that built them). parent_key is
-- metadata only: on btrfs and copy a child is a full snapshot, so a parent may
-- be evicted before its children.
CREATE TABLE layers (
  key text PRIMARY KEY CHECK (key ~ '^[0-9a-f]{64}$'),
  parent_key text CHECK (parent_key ~ '^[0-9a-f]{64}$'),
  step_count integer NOT NULL CHECK (step_count >= 0),
  build_ms integer NOT NULL CHECK (build_ms >= 0),
  size_bytes bigint NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
  hits bigint NOT NULL DEFAULT 0,
  -- Creation counts as a use, so a fresh layer is as recent as it gets.
  last_used_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  pinned boolean NOT NULL DEFAULT false
);

-- Writable volumes. One cloned from a layer is a live clone of it; the foreign
-- key (no cascade) keeps a layer's row, and so its data, while clones exist.
CREATE TABLE volumes (
  id uuid PRIMARY KEY,
  layer_key text REFERENCES layers (key),
  created_at timestamptz NOT NULL DEFAULT now(),
  size_limit_bytes bigint CHECK (size_limit_bytes > 0)
);

CREATE INDEX volumes_layer_key ON volumes (layer_key) WHERE layer_key IS NOT NULL;
