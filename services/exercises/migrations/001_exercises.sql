-- Exercises (ADR 0036), first cut: query exercises authored through the API.
-- The author is a user-profile account id (no foreign key: another service's
-- table). The setup is the start state learners see; datasets are hidden.
CREATE TABLE exercises (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$'),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  task_md text NOT NULL CHECK (length(task_md) <= 65536),
  kind text NOT NULL DEFAULT 'query' CHECK (kind IN ('query')),
  setup_sql text NOT NULL CHECK (length(setup_sql) <= 1048576),
  solution text NOT NULL CHECK (length(solution) <= 65536),
  compare jsonb NOT NULL DEFAULT '{}',
  min_kill_score double precision NOT NULL DEFAULT 0 CHECK (min_kill_score BETWEEN 0 AND 1),
  equivalent_mutants text[] NOT NULL DEFAULT '{}',
  author_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  -- The last publish measure, refused ones too (the author reads why).
  report jsonb
);

-- Hidden datasets, in the author's order; each is SQL run after the setup.
CREATE TABLE exercise_datasets (
  exercise_id uuid NOT NULL REFERENCES exercises (id) ON DELETE CASCADE,
  position int NOT NULL CHECK (position BETWEEN 1 AND 8),
  name text NOT NULL,
  sql text NOT NULL CHECK (length(sql) <= 1048576),
  PRIMARY KEY (exercise_id, position),
  UNIQUE (exercise_id, name)
);

-- Every publish that succeeded: the version learners were given, and the report that allowed it.
CREATE TABLE publications (
  exercise_id uuid NOT NULL REFERENCES exercises (id) ON DELETE CASCADE,
  version int NOT NULL,
  published_by uuid NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now(),
  report jsonb NOT NULL,
  PRIMARY KEY (exercise_id, version)
);
