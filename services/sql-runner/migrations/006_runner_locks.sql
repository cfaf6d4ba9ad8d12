-- ADR 0023: the process that admitted a run holds a session-level advisory
-- lock on its runner_key for as long as it lives; a run whose process is gone
-- counts as lapsed at once, as one whose lease ran out does. Null: a run
-- admitted without a held lock, reclaimed by its lease alone.
ALTER TABLE runs ADD COLUMN runner_key bigint;

-- Whether the process that holds advisory lock p_key is gone: this transaction
-- gets the lock exactly when no live session holds it. Got, it is held to the
-- end of the admission, which costs nothing (a key is never drawn again). Its
-- high cost makes the planner test it last, on the few unfinished runs only.
CREATE FUNCTION runner_gone(p_key bigint) RETURNS boolean
LANGUAGE sql VOLATILE COST 10000
AS $$ SELECT p_key IS NOT NULL AND pg_try_advisory_xact_lock(p_key) $$;

-- As in migration 005; a run is leased while its lease runs and its process lives.
CREATE OR REPLACE FUNCTION take_instance_slot(p_owner uuid, p_session uuid, p_run uuid, p_instances integer)
RETURNS TABLE (granted boolean, held integer, victim_sessions uuid[], victim_instances uuid[], sweep_sessions uuid[])
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  v_used integer;
  v_freed integer := 0;
  v_sessions uuid[] := '{}';
  v_instances uuid[] := '{}';
  v_sweep uuid[] := '{}';
  c record;
BEGIN
  SELECT (SELECT count(*) FROM sessions s
           WHERE s.owner_id = p_owner AND s.instance_id IS NOT NULL AND NOT s.instance_gone)
       + (SELECT count(*) FROM runs r WHERE r.owner_id = p_owner AND r.holds_slot AND r.id <> p_run)
    INTO v_used;
  IF v_used + 1 <= p_instances THEN
    RETURN QUERY SELECT true, v_used, v_sessions, v_instances, v_sweep;
    RETURN;
  END IF;
  FOR c IN
    SELECT s.id,
           CASE WHEN s.instance_id IS NOT NULL AND NOT s.instance_gone THEN s.instance_id END AS live,
           (SELECT count(*) FROM runs r WHERE r.session_id = s.id AND r.holds_slot AND r.id <> p_run)::int AS lapsed
      FROM sessions s
     WHERE s.owner_id = p_owner
       AND ((s.instance_id IS NOT NULL AND NOT s.instance_gone)
            OR EXISTS (SELECT FROM runs r WHERE r.session_id = s.id AND r.holds_slot AND r.id <> p_run))
       AND NOT EXISTS (SELECT FROM runs r WHERE r.session_id = s.id AND (r.finished_at IS NULL OR r.holds_slot)
                                             AND r.lease_until > now() AND r.id <> p_run
                                             AND NOT runner_gone(r.runner_key))
     ORDER BY s.id = p_session DESC, s.updated_at
  LOOP
    v_sessions := v_sessions || c.id;
    IF c.live IS NOT NULL THEN
      v_instances := v_instances || c.live;
      v_freed := v_freed + 1;
    END IF;
    IF c.lapsed > 0 THEN
      v_sweep := v_sweep || c.id;
      v_freed := v_freed + c.lapsed;
    END IF;
    EXIT WHEN v_used - v_freed + 1 <= p_instances;
  END LOOP;
  IF v_used - v_freed + 1 > p_instances THEN
    RETURN QUERY SELECT false, v_used, '{}'::uuid[], '{}'::uuid[], '{}'::uuid[];
    RETURN;
  END IF;
  UPDATE sessions SET instance_gone = true WHERE id = ANY (v_sessions) AND instance_id IS NOT NULL;
  UPDATE runs SET holds_slot = false, finished_at = coalesce(finished_at, now()), outcome = coalesce(outcome, 'failed')
   WHERE session_id = ANY (v_sessions) AND holds_slot AND id <> p_run;
  RETURN QUERY SELECT true, v_used, v_sessions, v_instances, v_sweep;
END;
$$;

-- As in migration 004, with the admitting process's lock key (p_runner, null
-- when it holds none) recorded on the run, and runs of gone processes lapsed.
DROP FUNCTION admit_run(uuid, uuid, uuid, text, integer, integer, integer, integer);
CREATE FUNCTION admit_run(
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
              AND (p_tail_key IS NULL OR s.current_key IS NOT DISTINCT FROM p_tail_key))
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
