-- One row per sandbox instance: a PostgreSQL server on one volume of
-- snapshot-cache. Rows are kept after Deleted/Failed as history.
CREATE TABLE instances (
  id uuid PRIMARY KEY,
  -- Null while the instance sits unowned in the warm pool.
  owner_id text,
  -- Role of the owner when it asked (anonymous owners have an idle TTL).
  owner_role text,
  session_id text,
  state text NOT NULL CHECK (state IN ('Pending', 'Creating', 'Running', 'Suspended', 'Deleting', 'Deleted', 'Failed')),
  state_changed_at timestamptz NOT NULL DEFAULT now(),
  volume_id uuid,
  volume_path text,
  port integer,
  pid integer,
  -- Layer the volume was cloned from; null for an instance made from the template.
  layer_key text,
  -- State key the runner says the instance is at now.
  current_key text,
  pooled boolean NOT NULL DEFAULT false,
  -- Warm-pool key it was started for ('template' or a layer key); null when not started by the pool.
  pool_key text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz NOT NULL DEFAULT now(),
  suspended_at timestamptz
);

CREATE INDEX instances_owner ON instances (owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX instances_live ON instances (state) WHERE state NOT IN ('Deleted', 'Failed');
CREATE INDEX instances_pool ON instances (pool_key, created_at) WHERE pooled;

-- Every state change, with why (the conditions pattern).
CREATE TABLE instance_transitions (
  id bigserial PRIMARY KEY,
  instance_id uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
  from_state text,
  to_state text NOT NULL,
  reason text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX instance_transitions_instance ON instance_transitions (instance_id, id);

-- Declared warm-pool demand: how many started, untouched instances to keep per key.
CREATE TABLE warm_pool_demand (
  key text PRIMARY KEY,
  size integer NOT NULL CHECK (size >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
