-- One row per project; its files live in a Git working tree under the data
-- directory, named by the id. The owner is a user-profile account id (no
-- foreign key: another service's table); an upgrade keeps the id, so the
-- projects stay with the account.
CREATE TABLE projects (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  template text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Bytes the project takes on disk (working tree and .git), measured after every change.
  size_bytes bigint NOT NULL DEFAULT 0 CHECK (size_bytes >= 0)
);

-- One name per account; the list is by owner, oldest first.
CREATE UNIQUE INDEX projects_owner_name ON projects (owner_id, name);
CREATE INDEX projects_owner_created ON projects (owner_id, created_at, id);
