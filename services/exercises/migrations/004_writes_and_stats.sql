-- Write and DDL exercises (issue 18): graded by the state the answer leaves.
ALTER TABLE exercises DROP CONSTRAINT exercises_kind_check;
ALTER TABLE exercises ADD CONSTRAINT exercises_kind_check CHECK (kind IN ('query', 'write'));
-- When the exercise was last changed by PUT; a published exercise changed keeps serving its publication.
ALTER TABLE exercises ADD COLUMN updated_at timestamptz;

-- What a publication published ({ title, task, kind, setup, solution, datasets, compare }): attempts and the
-- learner's view read it, so a PUT after publishing changes nothing learners see until the next publish.
-- NULL for publications made before this column (they read the exercise's row).
ALTER TABLE publications ADD COLUMN content jsonb;

-- What an attempt returned on every dataset (its verdict and a digest of its result or state per dataset):
-- wrong answers with the same digest returned the same, so the instructors' view groups them.
ALTER TABLE attempts ADD COLUMN verdict_digest text;
CREATE INDEX attempts_wrong_answers ON attempts (exercise_id, verdict_digest) WHERE NOT passed;
