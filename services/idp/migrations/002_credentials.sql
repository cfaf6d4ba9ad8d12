-- Accounts now live in user-profile (their role, email and quotas); idp keeps
-- only how an account signs in, keyed by the account id user-profile hands
-- out. The old table is dropped: its anonymous accounts were never known to
-- user-profile and had no refresh token, so nothing could sign in as them
-- again once their access token expired.
DROP TABLE accounts;

-- Email and password sign-in. The email is kept lower-cased for lookup only;
-- the hash is scrypt in a self-describing string (parameters, salt, key).
CREATE TABLE password_credentials (
  account_id uuid PRIMARY KEY,
  email text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- OpenID Connect sign-in: which account an (issuer, subject) pair signs in as.
CREATE TABLE oidc_links (
  issuer text NOT NULL,
  subject text NOT NULL,
  account_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_links_account ON oidc_links (account_id);

-- A refresh token family: every token rotated from one sign-in. Reuse of a
-- rotated token revokes the whole family (RFC 9700 §4.14.2).
CREATE TABLE refresh_families (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  revoked_reason text
);
CREATE INDEX refresh_families_account ON refresh_families (account_id);

-- Refresh tokens are opaque to the browser and stored here only as SHA-256.
CREATE TABLE refresh_tokens (
  token_hash bytea PRIMARY KEY,
  family_id uuid NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  rotated_at timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- OIDC logins between the redirect to the provider and its callback: the
-- PKCE verifier and nonce stay here, found by the hash of `state`.
CREATE TABLE oidc_flows (
  state_hash bytea PRIMARY KEY,
  code_verifier text NOT NULL,
  nonce text NOT NULL,
  upgrade_account_id uuid,
  expires_at timestamptz NOT NULL
);

-- Failed password sign-ins, per account (hashed email) and per client
-- address, for the sliding-window limit; old rows are deleted as new ones come.
CREATE TABLE sign_in_failures (
  key text NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_key ON sign_in_failures (key, failed_at);
