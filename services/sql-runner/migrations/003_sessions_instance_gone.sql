-- Set when sql-runner learned that the session's instance is gone (deleted by
-- its TTL, by its owner, or to make room under the instance quota): such a
-- session no longer counts in the quota's quick check. Cleared whenever the
-- session points at an instance again.
ALTER TABLE sessions ADD COLUMN instance_gone boolean NOT NULL DEFAULT false;
