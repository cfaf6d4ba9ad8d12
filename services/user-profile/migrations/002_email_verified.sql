-- Whether an identity provider vouched for the account's email (OIDC `email_verified: true`). A password
-- sign-up proves nothing about its email, so only a verified email may be made admin by
-- USER_PROFILE_ADMIN_EMAILS: otherwise whoever signs up first with a listed address would get the role.
ALTER TABLE accounts ADD COLUMN email_verified boolean NOT NULL DEFAULT false;
