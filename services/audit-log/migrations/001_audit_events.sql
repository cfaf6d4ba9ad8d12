-- The audit log: one row per event, in one hash chain. `seq` is the chain
-- position, assigned under an advisory lock so concurrent appends keep one
-- chain; `id` is the reporter's event id, unique so retries are idempotent.
CREATE TABLE audit_events (
  seq bigint PRIMARY KEY CHECK (seq > 0),
  id uuid NOT NULL UNIQUE,
  at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  action text NOT NULL,
  account_id uuid,
  actor_id uuid,
  target text,
  ip text,
  request_id text,
  detail jsonb,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account_id, seq DESC);
CREATE INDEX audit_events_action ON audit_events (action, seq DESC);
CREATE INDEX audit_events_at ON audit_events (at);

-- Append-only, even for a superuser who forgets: UPDATE, DELETE and TRUNCATE
-- raise. Disabling this trigger takes ownership of the table, which the
-- service role loses when the table is sealed (see sealAuditLog).
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

-- Until the table is sealed the service role owns it; it still gives up the
-- privileges it never needs, so a stray UPDATE fails on privileges first.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM CURRENT_USER;
