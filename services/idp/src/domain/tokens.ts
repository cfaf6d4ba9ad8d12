import { KeyObject, sign } from 'node:crypto';
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

/**
 * Node's own object of each signing key, made once per key. Signing with it is an Ed25519 signature on this
 * thread (~50 µs); jose's SignJWT signs with WebCrypto, whose sign is a job on libuv's thread pool, so every
 * token cost a round trip through it besides the signature (issue 22).
 */
const keyObjects = new WeakMap<SigningKey['privateKey'], KeyObject>();

function keyObjectOf(key: SigningKey): KeyObject {
  let object = keyObjects.get(key.privateKey);
  if (!object) {
    object = KeyObject.from(key.privateKey);
    keyObjects.set(key.privateKey, object);
  }
  return object;
}

const segment = (value: object): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/**
 * Signs a short-lived access token for `subject` with the active key: a compact JWS (RFC 7515) of the same
 * header and claims jose's SignJWT wrote, `{ alg: EdDSA, kid, typ: JWT }` and `{ role, sub, iss, aud, iat,
 * exp }`, exp being iat plus the TTL.
 */
export async function issueAccessToken(
  key: SigningKey,
  subject: TokenSubject,
  settings: TokenSettings,
): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  const header = segment({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: 'JWT' });
  const claims = segment({
    role: subject.role,
    sub: subject.accountId,
    iss: settings.issuer,
    aud: settings.audience,
    iat,
    exp: iat + settings.ttlSeconds,
  });
  const input = `${header}.${claims}`;
  const signature = sign(null, Buffer.from(input, 'utf8'), keyObjectOf(key));
  return `${input}.${signature.toString('base64url')}`;
}
