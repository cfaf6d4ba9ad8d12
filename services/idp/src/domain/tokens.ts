import { SignJWT } from 'jose';
import { SIGNING_ALGORITHM, type SigningKey } from './keys.js';

/** Who a token is for and what it may do. */
export interface TokenSubject {
  accountId: string;
  role: 'anonymous' | 'learner' | 'instructor' | 'admin';
}

/** Settings of the tokens this idp issues. */
export interface TokenSettings {
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/** Signs a short-lived access token for `subject` with the active key. */
export async function issueAccessToken(
  key: SigningKey,
  subject: TokenSubject,
  settings: TokenSettings,
): Promise<string> {
  return new SignJWT({ role: subject.role })
    .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: 'JWT' })
    .setSubject(subject.accountId)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt()
    .setExpirationTime(`${settings.ttlSeconds}s`)
    .sign(key.privateKey);
}
