-- A reset (the tail again on a session) to the layer the session's instance
-- was started from is served on that instance, from its template database
-- (ADR 0029): admission must not take a new instance slot for it, which with
-- an anonymous account's one instance reclaimed (deleted) the very instance
-- the reset would have used. start_key is the layer key the session's
-- instance was started from (null for one made from the engine's template).
ALTER TABLE sessions ADD COLUMN start_key text;

-- As in migration 006, with a run whose tail key is its session's start key
-- taken for one that needs no new instance. Should the instance keep no
-- template after all, the run claims a slot then (claim_instance_slot), as a
-- run whose session's instance was found gone does.
CREATE OR REPLACE FUNCTION admit_run(
  p_run uuid, p_owner uuid, p_session uuid, p_tail_key text,
  p_instances integer, p_runs_per_minute integer, p_max_open integer, p_lease_seconds integer, p_runner bigint)
RETURNS TABLE (verdict text, retry_after_seconds integer, held integer, holds_slot boolean,
               victim_sessions uuid[], victim_instances uuid[], sweep_sessions uuid[])
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  v_nth timestamptz;
  v_open integer;
  v_needs boolean;
  v_slot record;
  v_granted boolean := false;
  v_held integer := 0;
  v_sessions uuid[] := '{}';
  v_instances uuid[] := '{}';
  v_sweep uuid[] := '{}';
  v_now timestamptz;
BEGIN
  INSERT INTO quota_accounts (owner_id) VALUES (p_owner) ON CONFLICT DO NOTHING;
  -- Every statement below takes a new snapshot: it sees what the admissions before this one committed.
  PERFORM FROM quota_accounts WHERE owner_id = p_owner FOR UPDATE;
  -- The time of admission, once the lock is held (the transaction's own time may be older than an admission
  -- it waited for), so that runs start in the order they were admitted.
  v_now := clock_timestamp();
  -- Runs of processes that died end here; one holding a slot keeps it until its session is reclaimed.
  UPDATE runs SET finished_at = v_now, outcome = 'failed'
   WHERE owner_id = p_owner AND finished_at IS NULL AND NOT runs.holds_slot
     AND (lease_until <= v_now OR runner_gone(runner_key));

  IF p_runs_per_minute IS NOT NULL THEN
    IF p_runs_per_minute = 0 THEN
      RETURN QUERY SELECT 'run-rate', 60, 0, false, '{}'::uuid[], '{}'::uuid[], '{}'::uuid[];
      RETURN;
    END IF;
    SELECT r.started_at INTO v_nth FROM runs r
     WHERE r.owner_id = p_owner AND r.started_at > v_now - interval '1 minute'
     ORDER BY r.started_at DESC OFFSET p_runs_per_minute - 1 LIMIT 1;
    IF FOUND THEN
      RETURN QUERY SELECT 'run-rate',
        greatest(1, ceil(extract(epoch FROM v_nth + interval '1 minute' - v_now)))::integer,
        p_runs_per_minute, false, '{}'::uuid[], '{}'::uuid[], '{}'::uuid[];
      RETURN;
    END IF;
  END IF;

  IF p_max_open IS NOT NULL THEN
    SELECT count(*) INTO v_open FROM runs r
     WHERE r.owner_id = p_owner AND r.finished_at IS NULL AND r.lease_until > v_now AND NOT runner_gone(r.runner_key);
    IF v_open >= p_max_open THEN
      RETURN QUERY SELECT 'open-runs', 1, v_open, false, '{}'::uuid[], '{}'::uuid[], '{}'::uuid[];
      RETURN;
    END IF;
  END IF;

  SELECT NOT (s.instance_id IS NOT NULL AND NOT s.instance_gone
              AND (p_tail_key IS NULL OR s.current_key IS NOT DISTINCT FROM p_tail_key
                   OR s.start_key IS NOT DISTINCT FROM p_tail_key))
    INTO v_needs FROM sessions s WHERE s.id = p_session;
  IF v_needs AND p_instances IS NOT NULL THEN
    SELECT * INTO v_slot FROM take_instance_slot(p_owner, p_session, p_run, p_instances);
    IF NOT v_slot.granted THEN
      RETURN QUERY SELECT 'instances', 1, v_slot.held, false, '{}'::uuid[], '{}'::uuid[], '{}'::uuid[];
      RETURN;
    END IF;
    v_granted := true;
    v_held := v_slot.held;
    v_sessions := v_slot.victim_sessions;
    v_instances := v_slot.victim_instances;
    v_sweep := v_slot.sweep_sessions;
  END IF;
  INSERT INTO runs (id, session_id, owner_id, started_at, lease_until, holds_slot, runner_key)
  VALUES (p_run, p_session, p_owner, v_now, v_now + p_lease_seconds * interval '1 second', v_granted, p_runner);
  RETURN QUERY SELECT 'admitted', 0, v_held, v_granted, v_sessions, v_instances, v_sweep;
END;
$$;
