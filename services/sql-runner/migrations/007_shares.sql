-- Share links (ADR 0027): a tail and a head under an unguessable id. The
-- owner is kept for listing, revoking and the per-account caps, and is never
-- answered to anyone opening the link. A revoked or expired row stays a while
-- (the creation rate counts it) until the sweep deletes it.
CREATE TABLE shares (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{22}$'),
  owner_id uuid NOT NULL,
  -- The tail as it was sent (`{ sql }` or `{ files }`), null for none; a share's tail is stored resolved.
  tail jsonb,
  head text NOT NULL,
  -- The tail's state key: the layer this link pins while it lives.
  state_key text NOT NULL CHECK (state_key ~ '^[0-9a-f]{64}$'),
  -- Characters of the tail and head, what the per-account size cap adds up.
  size_chars bigint NOT NULL CHECK (size_chars >= 0),
  -- Whether this link has asked snapshot-cache to pin its layer (false until the layer exists).
  pinned boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);

CREATE INDEX shares_owner ON shares (owner_id, created_at DESC);
CREATE INDEX shares_state_key ON shares (state_key) WHERE revoked_at IS NULL;
CREATE INDEX shares_expires ON shares (expires_at) WHERE revoked_at IS NULL;
