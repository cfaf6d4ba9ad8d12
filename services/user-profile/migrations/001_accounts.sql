-- Default quotas of each role. An account's effective quotas are these with
-- its own non-null overrides applied; operators may tune a role here.
CREATE TABLE role_quotas (
  role text PRIMARY KEY CHECK (role IN ('anonymous', 'learner', 'instructor', 'admin')),
  instances integer NOT NULL CHECK (instances >= 0),
  storage_bytes bigint NOT NULL CHECK (storage_bytes >= 0),
  runs_per_minute integer NOT NULL CHECK (runs_per_minute >= 0),
  idle_ttl_seconds integer NOT NULL CHECK (idle_ttl_seconds >= 0)
);

INSERT INTO role_quotas (role, instances, storage_bytes, runs_per_minute, idle_ttl_seconds) VALUES
  ('anonymous', 1, 268435456, 60, 900),
  ('learner', 3, 2147483648, 120, 3600),
  ('instructor', 10, 10737418240, 300, 14400),
  ('admin', 20, 21474836480, 600, 14400);

-- Accounts. Anonymous accounts are created on first visit and upgraded in
-- place later, so their id never changes. A null override means "the role's default".
CREATE TABLE accounts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  role text NOT NULL REFERENCES role_quotas (role),
  email text,
  display_name text,
  created_at timestamptz NOT NULL DEFAULT now(),
  upgraded_at timestamptz,
  instances_override integer CHECK (instances_override >= 0),
  storage_bytes_override bigint CHECK (storage_bytes_override >= 0),
  runs_per_minute_override integer CHECK (runs_per_minute_override >= 0),
  idle_ttl_seconds_override integer CHECK (idle_ttl_seconds_override >= 0)
);

-- One account per email, whatever its case.
CREATE UNIQUE INDEX accounts_email ON accounts (lower(email)) WHERE email IS NOT NULL;
-- Admin list: by role, oldest first, keyset-paginated.
CREATE INDEX accounts_created ON accounts (created_at, id);
CREATE INDEX accounts_role_created ON accounts (role, created_at, id);
