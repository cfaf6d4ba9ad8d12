-- Runs still in progress, by owner: the instance quota must not reclaim an
-- instance a run of the same account is using, on any replica.
CREATE INDEX runs_in_flight ON runs (owner_id, session_id) WHERE finished_at IS NULL;
