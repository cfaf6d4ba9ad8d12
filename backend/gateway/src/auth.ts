import fastifyJwt from '@fastify/jwt';
import { UnauthorizedError } from '@taidon/kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { KeyCache } from './jwks.js';

declare module '@fastify/jwt' {
  interface FastifyJWT {
    user: { sub: string; role: 'anonymous' | 'learner' | 'instructor' | 'admin' };
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Route needs no access token (sign-in, the OpenAPI document). */
    public?: boolean;
  }
}

/** Verified access tokens remembered (LRU): one per active learner and then some. */
const TOKEN_CACHE_SIZE = 10_000;
/** How long a verified token is trusted without checking its signature again. */
const TOKEN_CACHE_TTL_MS = 60_000;

type TokenUser = { sub: string; role: 'anonymous' | 'learner' | 'instructor' | 'admin' };

/**
 * Tokens verified by this process, by their text: the user they stand for and until when that holds (the
 * sooner of their `exp` and TOKEN_CACHE_TTL_MS after the check), least recently verified first. A hit skips
 * @fastify/jwt altogether (decoding the token, the key lookup, fast-jwt's own cache, which hashes the token
 * with SHA-256 first): a learner sends the same token with every run (issue 22).
 */
class VerifiedTokens {
  private readonly entries = new Map<string, { user: TokenUser; untilMs: number }>();

  get(token: string, nowMs: number): TokenUser | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.untilMs > nowMs) return entry.user;
    this.entries.delete(token);
    return undefined;
  }

  set(token: string, user: TokenUser & { exp?: unknown }, nowMs: number): void {
    const expMs = typeof user.exp === 'number' ? user.exp * 1000 : nowMs;
    const untilMs = Math.min(expMs, nowMs + TOKEN_CACHE_TTL_MS);
    if (untilMs <= nowMs) return;
    this.entries.delete(token);
    this.entries.set(token, { user, untilMs });
    if (this.entries.size > TOKEN_CACHE_SIZE) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

/** Settings the gateway checks every access token against. */
export interface TokenPolicy {
  issuer: string;
  audience: string;
}

/**
 * Registers @fastify/jwt with idp's published keys (chosen by the token's
 * `kid`), and a hook that requires a valid token on every route of `app`
 * not marked `config.public`. Failures answer 401 problem+json.
 */
export function registerTokenCheck(app: FastifyInstance, keys: KeyCache, policy: TokenPolicy): void {
  app.register(fastifyJwt, {
    secret: async (_request: FastifyRequest, token: unknown) =>
      keys.publicKey((token as { header?: { kid?: unknown } }).header?.kid),
    // The key function needs the token's header (its `kid`), so decode completely.
    decode: { complete: true },
    verify: {
      algorithms: ['EdDSA'],
      allowedIss: policy.issuer,
      allowedAud: policy.audience,
      // A learner sends the same token with every run: remember verified tokens (never past their `exp`)
      // rather than checking the signature each time. A key idp withdraws stops working within cacheTTL.
      cache: TOKEN_CACHE_SIZE,
      cacheTTL: TOKEN_CACHE_TTL_MS,
    },
  });
  const verified = new VerifiedTokens();
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public === true) return;
    const authorization = request.headers.authorization;
    if (!authorization) {
      throw new UnauthorizedError('UNAUTHORIZED', 'Sign in first: this route needs an access token.');
    }
    const token = authorization.startsWith('Bearer ') ? authorization.slice(7) : undefined;
    const known = token === undefined ? undefined : verified.get(token, Date.now());
    if (known) {
      request.user = known;
      return;
    }
    try {
      await request.jwtVerify();
      if (token !== undefined) verified.set(token, request.user as TokenUser & { exp?: unknown }, Date.now());
    } catch (error) {
      if (error instanceof UnauthorizedError) throw error;
      const expired = (error as { code?: string }).code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED';
      throw new UnauthorizedError(
        'UNAUTHORIZED',
        expired ? 'The access token has expired; sign in again.' : 'The access token is not valid.',
      );
    }
  });
}
