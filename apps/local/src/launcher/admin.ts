import type { IDP_ERROR_CODES, SessionTokens } from '@taidon/idp';
import { callService, DomainError, type ServiceEndpoint } from '@taidon/kit';
import type { Logger } from 'pino';

type IdpErrorCode = keyof typeof IDP_ERROR_CODES;
/** idp's answers that ensureAdmin handles (checked against idp's catalogue at build time). */
const EMAIL_TAKEN: IdpErrorCode = 'USER_PROFILE_EMAIL_TAKEN';
const INVALID_CREDENTIALS: IdpErrorCode = 'IDP_INVALID_CREDENTIALS';

/** What ensureAdmin did: made the account, promoted an account already there, found it admin, or refused. */
export type AdminOutcome = 'created' | 'promoted' | 'already-admin' | 'refused';

/**
 * The operator's admin on a platform started by `npm start` (TAIDON_ADMIN_EMAIL, TAIDON_ADMIN_PASSWORD): the
 * password account is signed up through idp, then made admin in user-profile with the service token. The
 * operator vouches for this address by giving its password in the platform's own environment, which a
 * stranger cannot; so an account that already has the address is made admin only if this password signs it
 * in (a stranger who signed up first with the operator's address gets nothing, and the refusal is logged).
 */
export async function ensureAdmin(
  services: { idp: ServiceEndpoint; userProfile: ServiceEndpoint },
  credentials: { email: string; password: string },
  log: Logger,
): Promise<AdminOutcome> {
  let accountId: string;
  let created = false;
  try {
    accountId = (await callService<SessionTokens>(services.idp, '/auth/signup', { body: credentials })).accountId;
    created = true;
  } catch (error) {
    if (!(error instanceof DomainError) || error.code !== EMAIL_TAKEN) throw error;
    try {
      accountId = (await callService<SessionTokens>(services.idp, '/auth/login', { body: credentials })).accountId;
    } catch (signIn) {
      if (!(signIn instanceof DomainError) || signIn.code !== INVALID_CREDENTIALS) throw signIn;
      log.error(
        'TAIDON_ADMIN_EMAIL belongs to an account that TAIDON_ADMIN_PASSWORD does not sign in (or has no password): not made admin',
      );
      return 'refused';
    }
  }
  const path = `/accounts/${encodeURIComponent(accountId)}`;
  const account = await callService<{ role: string }>(services.userProfile, path);
  if (account.role === 'admin') return 'already-admin';
  await callService<{ role: string }>(services.userProfile, path, { method: 'PATCH', body: { role: 'admin' } });
  log.warn({ accountId, previousRole: account.role, created }, 'made admin by TAIDON_ADMIN_EMAIL');
  return created ? 'created' : 'promoted';
}
