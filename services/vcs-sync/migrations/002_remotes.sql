-- A project's remote: the URL it pulls from and pushes to, its branch, and
-- the token for it encrypted (AES-256-GCM, the key in VCS_SYNC_TOKEN_KEY,
-- the project id as associated data). The URL never carries credentials;
-- nothing of this is written to the project's .git/config.
CREATE TABLE project_remotes (
  project_id uuid PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
  url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  branch text NOT NULL CHECK (length(branch) BETWEEN 1 AND 200),
  -- iv (12 bytes) || tag (16 bytes) || ciphertext; null: no token (a public remote).
  token_sealed bytea,
  updated_at timestamptz NOT NULL DEFAULT now()
);
