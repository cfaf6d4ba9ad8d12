import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * Connections between services stay open between calls. Idle sockets are
 * closed after 30 s, before a fastify server (72 s) would close them under a
 * request. No cap on sockets per service: a run's stream or a creation waiting
 * in env-manager's queue holds its socket for seconds, and a cap would queue
 * every other call (a REPL run's) behind them.
 */
const agents = {
  http: new HttpAgent({ keepAlive: true, timeout: 30_000 }),
  https: new HttpsAgent({ keepAlive: true, timeout: 30_000 }),
};

/** One HTTP request between services. */
export interface HttpRequest {
  method: string;
  headers: OutgoingHttpHeaders;
  body?: string;
  /** Deadline of the whole exchange (headers and, for sendRequest, the body), in milliseconds; none when absent. */
  timeoutMs?: number;
  /** Aborts the request (and the response stream). */
  signal?: AbortSignal;
}

/** A response whose body has been read. */
export interface HttpResponse {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
}

function open(url: URL, options: HttpRequest, attempt: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const headers = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
    const request = (secure ? httpsRequest : httpRequest)(url, {
      method: options.method,
      headers,
      agent: secure ? agents.https : agents.http,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    request.once('response', resolve);
    request.once('error', (error: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed just as it was reused: the server never saw this request.
      if (request.reusedSocket && error.code === 'ECONNRESET' && attempt === 1) {
        open(url, options, 2).then(resolve, reject);
      } else {
        reject(error);
      }
    });
    request.end(options.body);
  });
}

/**
 * Sends a request with node:http on a shared keep-alive agent and answers the
 * response as a stream (the caller reads or pipes it). Lighter than fetch,
 * which wraps every body in web streams: on the path of every run.
 *
 * The deadline is a timer of its own that aborts the request, cleared once the
 * response is closed. Not `AbortSignal.any([AbortSignal.timeout(ms), signal])`:
 * a composite signal holds its sources weakly, so a collection of the timeout
 * signal silently removed the deadline (under load, creations waited 100 s on a
 * 60 s deadline; the kit's test shows it with a forced collection).
 */
export async function streamRequest(url: URL, options: HttpRequest): Promise<IncomingMessage> {
  const { timeoutMs, signal: outer } = options;
  if (!timeoutMs) return open(url, options, 1);
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  // Like AbortSignal.timeout: the deadline alone does not keep the process running.
  timer.unref();
  const follow = () => controller.abort(outer?.reason);
  if (outer?.aborted) follow();
  else outer?.addEventListener('abort', follow, { once: true });
  const release = () => {
    clearTimeout(timer);
    outer?.removeEventListener('abort', follow);
  };
  try {
    const response = await open(url, { ...options, signal: controller.signal }, 1);
    response.once('close', release);
    return response;
  } catch (error) {
    release();
    throw error;
  }
}

/** Sends a request and reads its whole body as text, all within `timeoutMs`. */
export async function sendRequest(url: URL, options: HttpRequest): Promise<HttpResponse> {
  const response = await streamRequest(url, options);
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return { status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') };
}
