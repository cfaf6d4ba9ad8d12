-- ADR 0023: a run that replaced its session's instance beside it (below the
-- quota) keeps its slot after its record is finished, until the instance it
-- replaced is deleted, so its `done` does not wait for that deletion. A run
-- holds a slot while holds_slot is set, finished or not; the statement that
-- finishes its record clears it otherwise.

UPDATE runs SET holds_slot = false WHERE holds_slot AND finished_at IS NOT NULL;
-- The slots an account's runs hold (few at any time, among all its runs).
CREATE INDEX runs_holding_slots ON runs (owner_id) WHERE holds_slot;

-- As in migration 004, but a run holds its slot while holds_slot is set, and a
-- session is in use while a leased run of it is unfinished or holds a slot.
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
  UPDATE runs SET holds_slot = false, finished_at = coalesce(finished_at, now()), outcome = coalesce(outcome, 'failed')
   WHERE session_id = ANY (v_sessions) AND holds_slot AND id <> p_run;
  RETURN QUERY SELECT true, v_used, v_sessions, v_instances, v_sweep;
END;
$$;
