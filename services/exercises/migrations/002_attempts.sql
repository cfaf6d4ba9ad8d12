-- What an attempt is compared with: the reference's keyed result on each dataset of the publication
-- ([{ name, columns, rows }], the start state first), so an attempt runs only the learner's SQL.
ALTER TABLE publications ADD COLUMN reference_results jsonb NOT NULL DEFAULT '[]';

-- Every attempt: the learner's SQL (bounded by the route), the verdict per dataset, how long it took.
CREATE TABLE attempts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  exercise_id uuid NOT NULL REFERENCES exercises (id) ON DELETE CASCADE,
  publication int NOT NULL,
  account_id uuid NOT NULL,
  sql text NOT NULL CHECK (length(sql) <= 65536),
  passed boolean NOT NULL,
  checks jsonb NOT NULL,
  total_ms int NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attempts_account ON attempts (account_id, at);
CREATE INDEX attempts_exercise ON attempts (exercise_id, at);

-- Progress per account and exercise; an anonymous account upgraded in place keeps its id, so its progress stays.
CREATE TABLE progress (
  account_id uuid NOT NULL,
  exercise_id uuid NOT NULL REFERENCES exercises (id) ON DELETE CASCADE,
  attempts int NOT NULL DEFAULT 0,
  first_solved_at timestamptz,
  PRIMARY KEY (account_id, exercise_id)
);
