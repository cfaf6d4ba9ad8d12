-- Exercise packs: many exercises imported at once on one start state (its SQL is each exercise's setup_sql,
-- so every exercise of a pack has the same tail, the same key, one layer). Deleting a pack keeps its exercises.
CREATE TABLE packs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$'),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  author_id uuid NOT NULL,
  -- The start state's key as sql-runner named it when the import built (or found) it.
  layer_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE exercises
  ADD COLUMN pack_id uuid REFERENCES packs (id) ON DELETE SET NULL,
  ADD COLUMN pack_position int CHECK (pack_position >= 1);
CREATE INDEX exercises_pack ON exercises (pack_id) WHERE pack_id IS NOT NULL;
