-- A learner session: which instance serves it and the state key that
-- instance is at (null when unknown, e.g. after an error inside a transaction).
CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  owner_id uuid NOT NULL,
  instance_id uuid,
  current_key text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_owner ON sessions (owner_id);

-- One row per run: how its state was obtained and how long each phase took.
-- The SQL text is not stored here.
CREATE TABLE runs (
  id uuid PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions (id),
  owner_id uuid NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  outcome text CHECK (outcome IN ('ok', 'error', 'cancelled', 'failed')),
  source text,
  layer_key text,
  steps_replayed integer,
  error_sqlstate text,
  timings jsonb
);
CREATE INDEX runs_session ON runs (session_id, started_at DESC);
