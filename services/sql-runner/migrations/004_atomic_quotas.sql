-- ADR 0023: an account's quotas are checked and its run recorded in one
-- transaction that holds the account's row locked, so simultaneous runs of one
-- account are admitted one after the other and never hold more than its quotas,
-- whichever replica each reaches.

-- One row per account that ever ran: the row each admission of the account locks.
CREATE TABLE quota_accounts (
  owner_id uuid PRIMARY KEY
);

-- A run counts as open while unfinished and leased. Its process renews the lease
-- while it runs; the run of a process that died is reclaimed once the lease lapses.
ALTER TABLE runs ADD COLUMN lease_until timestamptz NOT NULL DEFAULT now() + interval '1 minute';
-- The run holds one of its account's instance slots: it may start an instance
-- that no session row names yet. Given back when the run ends, or handed to its
-- session in the statement that points the session at the new instance.
ALTER TABLE runs ADD COLUMN holds_slot boolean NOT NULL DEFAULT false;
-- The account's run-rate window.
CREATE INDEX runs_owner_started ON runs (owner_id, started_at DESC);

-- Takes an instance slot for run p_run of session p_session, with the account's
-- row already locked by the caller. Slots in use: every session's live instance
-- (instance_id set, not known gone), and every unfinished run holding a slot,
-- leased or lapsed (a lapsed one may have left an instance that no row names).
-- At the quota, sessions no other open run is using are reclaimed, the run's own
-- session first (its instance is about to be replaced), then the least recently
-- used: they are marked gone and their lapsed runs finished here, and the caller
-- deletes their instances before it starts one. Refused when that frees too few.
CREATE FUNCTION take_instance_slot(p_owner uuid, p_session uuid, p_run uuid, p_instances integer)
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
       + (SELECT count(*) FROM runs r
           WHERE r.owner_id = p_owner AND r.finished_at IS NULL AND r.holds_slot AND r.id <> p_run)
    INTO v_used;
  IF v_used + 1 <= p_instances THEN
    RETURN QUERY SELECT true, v_used, v_sessions, v_instances, v_sweep;
    RETURN;
  END IF;
  FOR c IN
    SELECT s.id,
           CASE WHEN s.instance_id IS NOT NULL AND NOT s.instance_gone THEN s.instance_id END AS live,
           (SELECT count(*) FROM runs r
             WHERE r.session_id = s.id AND r.finished_at IS NULL AND r.holds_slot AND r.id <> p_run)::int AS lapsed
      FROM sessions s
     WHERE s.owner_id = p_owner
       AND ((s.instance_id IS NOT NULL AND NOT s.instance_gone)
            OR EXISTS (SELECT FROM runs r WHERE r.session_id = s.id AND r.finished_at IS NULL AND r.holds_slot
                                            AND r.id <> p_run))
       AND NOT EXISTS (SELECT FROM runs r WHERE r.session_id = s.id AND r.finished_at IS NULL
                                             AND r.lease_until > now() AND r.id <> p_run)
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
  UPDATE runs SET finished_at = now(), outcome = 'failed'
   WHERE session_id = ANY (v_sessions) AND finished_at IS NULL AND holds_slot AND id <> p_run;
  RETURN QUERY SELECT true, v_used, v_sessions, v_instances, v_sweep;
END;
$$;

-- Admits run p_run of account p_owner on session p_session (which exists), or
-- says which quota refuses it: 'run-rate' (p_runs_per_minute runs started in
-- the last minute), 'open-runs' (p_max_open runs open), 'instances' (the run
-- needs an instance and take_instance_slot found no room). The run needs an
-- instance unless its session's live instance is at p_tail_key (null: a head
-- alone, which continues whatever state the instance is in). On admission the
-- run is recorded, leased for p_lease_seconds, and holding a slot if it took one.
-- A null limit is not enforced.
CREATE FUNCTION admit_run(
  p_run uuid, p_owner uuid, p_session uuid, p_tail_key text,
  p_instances integer, p_runs_per_minute integer, p_max_open integer, p_lease_seconds integer)
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
BEGIN
  INSERT INTO quota_accounts (owner_id) VALUES (p_owner) ON CONFLICT DO NOTHING;
  -- Every statement below takes a new snapshot: it sees what the admissions before this one committed.
  PERFORM FROM quota_accounts WHERE owner_id = p_owner FOR UPDATE;
  -- Runs of processes that died end here; one holding a slot keeps it until its session is reclaimed.
  UPDATE runs SET finished_at = now(), outcome = 'failed'
   WHERE owner_id = p_owner AND finished_at IS NULL AND lease_until <= now() AND NOT runs.holds_slot;

  IF p_runs_per_minute IS NOT NULL THEN
    IF p_runs_per_minute = 0 THEN
      RETURN QUERY SELECT 'run-rate', 60, 0, false, '{}'::uuid[], '{}'::uuid[], '{}'::uuid[];
      RETURN;
    END IF;
    SELECT r.started_at INTO v_nth FROM runs r
     WHERE r.owner_id = p_owner AND r.started_at > now() - interval '1 minute'
     ORDER BY r.started_at DESC OFFSET p_runs_per_minute - 1 LIMIT 1;
    IF FOUND THEN
      RETURN QUERY SELECT 'run-rate',
        greatest(1, ceil(extract(epoch FROM v_nth + interval '1 minute' - now())))::integer,
        p_runs_per_minute, false, '{}'::uuid[], '{}'::uuid[], '{}'::uuid[];
      RETURN;
    END IF;
  END IF;

  IF p_max_open IS NOT NULL THEN
    SELECT count(*) INTO v_open FROM runs r
     WHERE r.owner_id = p_owner AND r.finished_at IS NULL AND r.lease_until > now();
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
  INSERT INTO runs (id, session_id, owner_id, lease_until, holds_slot)
  VALUES (p_run, p_session, p_owner, now() + p_lease_seconds * interval '1 second', v_granted);
  RETURN QUERY SELECT 'admitted', 0, v_held, v_granted, v_sessions, v_instances, v_sweep;
END;
$$;

-- Takes an instance slot for run p_run, already admitted, that found it needs a
-- new instance after all (its session's instance was gone); as take_instance_slot,
-- under the account's lock, and recorded on the run when granted.
CREATE FUNCTION claim_instance_slot(p_run uuid, p_instances integer)
RETURNS TABLE (granted boolean, held integer, victim_sessions uuid[], victim_instances uuid[], sweep_sessions uuid[])
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  v_run runs%ROWTYPE;
  v_slot record;
BEGIN
  PERFORM FROM quota_accounts q JOIN runs r ON r.owner_id = q.owner_id WHERE r.id = p_run FOR UPDATE OF q;
  SELECT * INTO v_run FROM runs WHERE id = p_run;
  IF NOT FOUND THEN
    RETURN QUERY SELECT false, 0, '{}'::uuid[], '{}'::uuid[], '{}'::uuid[];
    RETURN;
  END IF;
  IF v_run.holds_slot THEN
    RETURN QUERY SELECT true, 0, '{}'::uuid[], '{}'::uuid[], '{}'::uuid[];
    RETURN;
  END IF;
  SELECT * INTO v_slot FROM take_instance_slot(v_run.owner_id, v_run.session_id, p_run, p_instances);
  IF v_slot.granted THEN
    UPDATE runs SET holds_slot = true WHERE id = p_run;
  END IF;
  RETURN QUERY SELECT v_slot.granted, v_slot.held, v_slot.victim_sessions, v_slot.victim_instances,
    v_slot.sweep_sessions;
END;
$$;
