import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
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

/** A deadline's state: the request it ends (the retried one after a retry), and why once it passed. */
interface Deadline {
  request?: ClientRequest;
  passed?: Error;
}

function open(url: URL, options: HttpRequest, attempt: number, deadline?: Deadline): Promise<IncomingMessage> {
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
    if (deadline) {
      deadline.request = request;
      if (deadline.passed) request.destroy(deadline.passed);
    }
    request.once('response', resolve);
    request.once('error', (error: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed just as it was reused: the server never saw this request.
      if (request.reusedSocket && error.code === 'ECONNRESET' && attempt === 1) {
        open(url, options, 2, deadline).then(resolve, reject);
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
 * The deadline is a timer of its own that destroys the request (and so its
 * response) with a TimeoutError, cleared once the response is closed; a
 * caller's signal is node:http's own. Not `AbortSignal.any([AbortSignal.timeout(ms), signal])`:
 * a composite signal holds its sources weakly, so a collection of the timeout
 * signal silently removed the deadline (under load, creations waited 100 s on a
 * 60 s deadline; the kit's test shows it with a forced collection). Nor an
 * AbortController per call: its signal, its listeners and node:http's handling of
 * them were 2–3 % of the gateway's and idp's CPU per sign-in (issue 22).
 */
export async function streamRequest(url: URL, options: HttpRequest): Promise<IncomingMessage> {
  const { timeoutMs } = options;
  if (!timeoutMs) return open(url, options, 1);
  const deadline: Deadline = {};
  const timer = setTimeout(() => {
    deadline.passed = new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError');
    deadline.request?.destroy(deadline.passed);
  }, timeoutMs);
  // Like AbortSignal.timeout: the deadline alone does not keep the process running.
  timer.unref();
  try {
    const response = await open(url, options, 1, deadline);
    response.once('close', () => clearTimeout(timer));
    return response;
  } catch (error) {
    clearTimeout(timer);
    throw error;
  }
}

/**
 * Sends a request and reads its whole body as text, all within `timeoutMs`. The body is read by its events,
 * not `for await`, whose iterator costs a promise and its bookkeeping per chunk (issue 22).
 */
export async function sendRequest(url: URL, options: HttpRequest): Promise<HttpResponse> {
  const response = await streamRequest(url, options);
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.once('error', reject);
    // A response cut off before its end (the deadline, the server gone) ends with 'close' alone on some paths.
    response.once('close', () => {
      if (!response.complete) reject(deadlineOr(response));
    });
  });
  return { status: response.statusCode ?? 0, headers: response.headers, text };
}

/** Why a response closed before its end. */
function deadlineOr(response: IncomingMessage): Error {
  return (response.errored as Error | null) ?? new Error('the answer ended before its end');
}
