-- Accounts known to idp. Anonymous accounts are created on first visit and
-- upgraded in place later, so their id never changes.
CREATE TABLE accounts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  role text NOT NULL CHECK (role IN ('anonymous', 'learner', 'instructor', 'admin')),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Asymmetric keys that sign access tokens. The newest unretired key signs;
-- retired keys stay published in the JWKS until the tokens they signed expire.
CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  algorithm text NOT NULL,
  public_jwk jsonb NOT NULL,
  private_jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz
);
