import { UnavailableError } from '@taidon/kit';
import * as client from 'openid-client';
import {
  OidcAlreadyLinkedError,
  OidcFailedError,
  OidcNoEmailError,
  OidcNotConfiguredError,
  OidcStateMismatchError,
} from '../errors.js';
import { insertOidcLink, selectOidcLink } from '../store/credentials.js';
import { insertFlow, takeFlow } from '../store/oidc-flows.js';
import { hashRefreshToken as sha256 } from './refresh.js';
import { type Session, type SessionContext, startSession } from './sessions.js';
import type { Caller } from './sign-in.js';

/** A provider, by issuer URL and the client registered there. */
export interface OidcSettings {
  issuerUrl: string;
  clientId: string;
  clientSecret: string;
  /** The gateway's public callback URL, as registered at the provider. */
  redirectUrl: string;
}

/** How long a user may take at the provider before the callback is refused. */
const FLOW_TTL_SECONDS = 600;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * OpenID Connect sign-in (authorization code + PKCE, state and nonce checked)
 * against one provider configured by issuer URL. Plain http is accepted only
 * for a provider on loopback (tests, the all-in-one start).
 */
export class OidcSignIn {
  private configuration: Promise<client.Configuration> | undefined;

  constructor(
    private readonly settings: OidcSettings | undefined,
    private readonly ctx: SessionContext,
  ) {}

  private provider(): Promise<client.Configuration> {
    const s = this.settings;
    if (!s) throw new OidcNotConfiguredError();
    this.configuration ??= (async () => {
      const issuer = new URL(s.issuerUrl);
      const insecure = issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname);
      return client.discovery(issuer, s.clientId, s.clientSecret, undefined, {
        ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
        timeout: 10,
      });
    })().catch((error: unknown) => {
      this.configuration = undefined; // try discovery again on the next sign-in
      throw new UnavailableError('UNAVAILABLE', 'The identity provider did not answer.', error);
    });
    return this.configuration;
  }

  /** The provider URL to send the browser to, and the state the gateway binds to the browser. */
  async start(upgradeAccountId: string | undefined): Promise<{ authorizationUrl: string; state: string }> {
    const config = await this.provider();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    await insertFlow(
      this.ctx.pool,
      sha256(state),
      { codeVerifier, nonce, upgradeAccountId: upgradeAccountId ?? null },
      FLOW_TTL_SECONDS,
    );
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings?.redirectUrl ?? '',
      scope: 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { authorizationUrl: url.href, state };
  }

  /** Completes a login from the callback's query string: checks everything, then signs in, registers or upgrades. */
  async callback(query: string, caller: Caller): Promise<Session> {
    const config = await this.provider();
    const params = new URLSearchParams(query);
    const state = params.get('state');
    const flow = state ? await takeFlow(this.ctx.pool, sha256(state)) : undefined;
    if (!state || !flow) throw new OidcStateMismatchError();
    const currentUrl = new URL(this.settings?.redirectUrl ?? '');
    currentUrl.search = params.toString();
    const { subject, email, emailVerified } = await identify(config, currentUrl, { ...flow, state });
    const claims = { sub: subject };
    const issuer = config.serverMetadata().issuer;
    const linked = await selectOidcLink(this.ctx.pool, issuer, claims.sub);
    if (flow.upgradeAccountId) {
      if (linked && linked !== flow.upgradeAccountId) throw new OidcAlreadyLinkedError();
      if (!linked) {
        if (!email) throw new OidcNoEmailError();
        await this.ctx.accounts.upgrade(flow.upgradeAccountId, { email, emailVerified }, caller.requestId);
        await insertOidcLink(this.ctx.pool, issuer, claims.sub, flow.upgradeAccountId);
      }
      return startSession(this.ctx, flow.upgradeAccountId, undefined, caller.requestId);
    }
    if (linked) return startSession(this.ctx, linked, undefined, caller.requestId);
    const account = await this.ctx.accounts.create(
      { role: 'learner', ...(email ? { email, emailVerified } : {}) },
      caller.requestId,
    );
    await insertOidcLink(this.ctx.pool, issuer, claims.sub, account.id);
    return startSession(this.ctx, account.id, account.role, caller.requestId);
  }
}

/**
 * Redeems the code (PKCE verifier, state and nonce checked by openid-client)
 * and returns the subject and email; providers that keep the email out of the
 * ID token give it at their userinfo endpoint. `emailVerified` only when the
 * provider says `email_verified: true` where the email came from: it is what
 * lets USER_PROFILE_ADMIN_EMAILS trust the address.
 */
async function identify(
  config: client.Configuration,
  currentUrl: URL,
  checks: { codeVerifier: string; nonce: string; state: string },
): Promise<{ subject: string; email: string | undefined; emailVerified: boolean }> {
  try {
    const tokens = await client.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: checks.codeVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new Error('no ID token');
    let email = claims.email;
    let verified = claims.email_verified;
    if (typeof email !== 'string' && config.serverMetadata().userinfo_endpoint) {
      const userInfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      email = userInfo.email;
      verified = userInfo.email_verified;
    }
    return typeof email === 'string'
      ? { subject: claims.sub, email: email.trim().toLowerCase(), emailVerified: verified === true }
      : { subject: claims.sub, email: undefined, emailVerified: false };
  } catch (error) {
    throw new OidcFailedError(error);
  }
}
