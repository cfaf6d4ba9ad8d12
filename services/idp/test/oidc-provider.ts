import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

/** The person the loopback provider signs in, changeable between logins. */
export interface ProviderUser {
  sub: string;
  email?: string;
  /** The provider's `email_verified` claim beside the email; default true. */
  emailVerified?: boolean;
}

/** A real OpenID Connect provider on 127.0.0.1 with one static client. */
export interface LoopbackProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Who the next login signs in as. */
  user: ProviderUser;
  close(): Promise<void>;
}

/**
 * Starts oidc-provider on a loopback port. Its interaction (login, then
 * consent) completes itself for `user`, so a test drives the whole
 * authorization code flow with plain HTTP requests and no browser.
 */
export async function startLoopbackProvider(redirectUris: string[]): Promise<LoopbackProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const state: LoopbackProvider = {
    issuer,
    clientId: 'taidon-test',
    clientSecret: 'loopback-client-secret-not-used-anywhere-else',
    user: { sub: 'user-1', email: 'oidc-user@example.test' },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: state.clientId,
        client_secret: state.clientSecret,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'loopback', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: ['loopback-cookie-key'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3_600, IdToken: 600, Interaction: 600, Session: 3_600 },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({
        sub,
        ...(state.user.email ? { email: state.user.email, email_verified: state.user.emailVerified ?? true } : {}),
      }),
    }),
  });
  const handle = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/interaction/')) {
      autoInteract(provider, state, req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    handle(req, res);
  });
  return state;
}

/** Finishes the pending interaction: login as `state.user`, then consent to whatever is asked. */
async function autoInteract(provider: Provider, state: LoopbackProvider, req: IncomingMessage, res: ServerResponse) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    await provider.interactionFinished(req, res, { login: { accountId: state.user.sub } });
    return;
  }
  const grant =
    (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
    new provider.Grant({ accountId: details.session?.accountId ?? state.user.sub, clientId: details.params.client_id });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope((missing.missingOIDCScope as string[]).join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims as string[]);
  for (const [indicator, scopes] of Object.entries((missing.missingResourceScopes ?? {}) as Record<string, string[]>)) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } });
}

/**
 * Plays the browser at the provider: follows redirects from `url` with a
 * cookie jar until the provider sends the browser to a URL starting with
 * `callbackPrefix`, which it returns without requesting it.
 */
export async function browseToCallback(url: string, callbackPrefix: string): Promise<string> {
  const jar = new Map<string, string>();
  let next = url;
  for (let hop = 0; hop < 20; hop++) {
    if (next.startsWith(callbackPrefix)) return next;
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(next, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
    }
    const location = response.headers.get('location');
    if (!location) throw new Error(`provider stopped at ${next} with ${response.status}: ${await response.text()}`);
    next = new URL(location, next).href;
  }
  throw new Error('too many redirects at the provider');
}
