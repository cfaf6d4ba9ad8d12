import { SERVICE_TOKEN_HEADER } from '@taidon/kit';

/** One answer of the gateway, with the cookies it set, by name (value and attributes). */
export interface AuthAnswer {
  status: number;
  headers: Headers;
  body: any;
  cookies: Map<string, { value: string; attributes: string[] }>;
}

/** Parses Set-Cookie lines into name → value and attributes. */
export function cookiesOf(headers: Headers): AuthAnswer['cookies'] {
  const cookies: AuthAnswer['cookies'] = new Map();
  for (const line of headers.getSetCookie()) {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
    const eq = pair.indexOf('=');
    cookies.set(pair.slice(0, eq), { value: decodeURIComponent(pair.slice(eq + 1)), attributes });
  }
  return cookies;
}

/** Calls the gateway as the SPA would: JSON body, optional bearer token and cookie. */
export async function authCall(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; token?: string; cookie?: string } = {},
): Promise<AuthAnswer> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.cookie) headers.cookie = options.cookie;
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    redirect: 'manual',
    body: options.body === undefined ? null : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (a redirect)
  }
  return { status: response.status, headers: response.headers, body, cookies: cookiesOf(response.headers) };
}

/** `taidon_refresh=<value>` of an answer, for the next request. */
export function refreshCookieOf(answer: AuthAnswer): string {
  const cookie = answer.cookies.get('taidon_refresh');
  if (!cookie?.value) throw new Error(`no refresh cookie in the answer (${answer.status})`);
  return `taidon_refresh=${encodeURIComponent(cookie.value)}`;
}

/** Asks idp to rotate its signing key, as an operator's scheduler would. */
export async function rotateKey(idpUrl: string, serviceToken: string): Promise<string> {
  const response = await fetch(`${idpUrl}/keys/rotate`, {
    method: 'POST',
    headers: { [SERVICE_TOKEN_HEADER]: serviceToken },
  });
  return ((await response.json()) as { kid: string }).kid;
}
