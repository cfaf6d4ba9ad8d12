import { randomUUID } from 'node:crypto';
import { type IncomingMessage, maxHeaderSize, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ErrorCatalogue } from './errors.js';
import { problem, rawProblemResponse } from './problem.js';

/**
 * Bounds on what one HTTP server holds open, so slow, half-sent or idle
 * connections cannot use up the process's file descriptors (ADR 0022).
 */
export interface ConnectionLimits {
  /** Connections open at once; one more is answered 503 `TOO_MANY_CONNECTIONS` and closed. 0: no cap. */
  maxConnections: number;
  /** Connections open at once from one client address (IPv6: one /64); one more is refused as above. 0: no cap. */
  maxConnectionsPerAddress: number;
  /** From a connection's opening (or a kept-alive request's first byte) to the end of the request's headers. */
  headersTimeoutMs: number;
  /** To receive a whole request, headers and body. The response (a run's NDJSON stream) is not bounded by it. */
  requestTimeoutMs: number;
  /** How long a kept-alive connection may stay idle between requests. */
  keepAliveTimeoutMs: number;
  /**
   * Connections the kernel keeps waiting for the server to accept (capped by
   * net.core.somaxconn). Past it a connecting client's SYN is dropped and it
   * retries after a second, so a flood of connections delays everyone's.
   */
  listenBacklog: number;
}

/**
 * Defaults of every service: no caps (a service behind the gateway sees all
 * its callers from a few addresses), timeouts that close a half-sent request
 * in seconds, and fastify's keep-alive of 72 s, longer than the 30 s the kit's
 * client keeps an idle socket (a server closing first races a reused socket).
 */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 0,
  maxConnectionsPerAddress: 0,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 72_000,
  listenBacklog: 511,
};

/** Code of the 503 answered to a connection over a cap, before any of its request is read. */
export const TOO_MANY_CONNECTIONS = 'TOO_MANY_CONNECTIONS';

/** Codes of connection refusals, as a catalogue; an app that sets caps spreads it into its own. */
export const CONNECTION_LIMIT_ERROR_CATALOGUE = {
  [TOO_MANY_CONNECTIONS]: {
    status: 503,
    meaning:
      'The server holds as many connections as it allows, in total or from this client address; `Retry-After` says when to try again. The connection is closed.',
  },
} as const satisfies ErrorCatalogue;

/** Where createBaseApp keeps a request's id on Node's request, so a timeout's answer and log line carry the same id as its other lines. */
export const RAW_REQUEST_ID = Symbol('taidon.requestId');

/** Seconds a refused client is told to wait: by then timeouts have closed the half-sent connections that filled the cap. */
const REFUSAL_RETRY_AFTER_SECONDS = 5;
/** A refused socket is closed this long after its answer at the latest, so the client can read the answer first. */
const REFUSAL_LINGER_MS = 1_000;
/** Refused sockets left to linger at once; past this a flood's sockets are closed without an answer, costing nothing. */
const MAX_LINGERING_REFUSALS = 256;

/** The key connections are counted under: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64 (one host's usual share). */
export function addressKey(address: string | undefined): string {
  if (!address) return '';
  const bare = address.split('%')[0] ?? address;
  if (!bare.includes(':')) return bare;
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(bare)) return bare.slice(7);
  const [head = '', tail] = bare.split('::');
  const groups = (part: string | undefined) =>
    part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : [];
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const full = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${full
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/** What a server's limits report to its metrics registry. */
interface LimitMetrics {
  refused: Counter<'reason'>;
  evicted: Counter;
  clientErrors: Counter<'code'>;
}

function limitMetrics(registry: Registry, openConnections: () => number): LimitMetrics {
  new Gauge({
    name: 'taidon_http_connections',
    help: 'Client connections the HTTP server holds open.',
    registers: [registry],
    collect() {
      this.set(openConnections());
    },
  });
  return {
    refused: new Counter({
      name: 'taidon_http_connections_refused_total',
      help: 'Connections refused over a cap (reason: total, address).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    evicted: new Counter({
      name: 'taidon_http_connections_evicted_total',
      help: 'Idle kept-alive connections closed to admit a new one at a connection cap.',
      registers: [registry],
    }),
    clientErrors: new Counter({
      name: 'taidon_http_client_errors_total',
      help: 'Connections closed by the HTTP server for a request it could not read (code: REQUEST_TIMEOUT, HEADERS_TOO_LARGE, BAD_REQUEST...).',
      labelNames: ['code'],
      registers: [registry],
    }),
  };
}

/** The fastify server options that carry the timeouts (the caps are applied by applyConnectionLimits). */
export function serverTimeoutOptions(limits: ConnectionLimits) {
  // Node checks headers against requestTimeout only when both are set; a headers timeout past the request's means nothing.
  const headersTimeout =
    limits.requestTimeoutMs > 0 ? Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) : limits.headersTimeoutMs;
  const shortest = Math.min(...[headersTimeout, limits.requestTimeoutMs].filter((ms) => ms > 0));
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout,
      // Node looks for expired requests on this beat (default 30 s): a quarter of the shortest timeout, within 50 ms–1 s.
      connectionsCheckingInterval: Number.isFinite(shortest) ? Math.max(50, Math.min(1_000, shortest / 4)) : 30_000,
    },
  };
}

/**
 * Counts the server's connections and refuses those over a cap with a 503
 * problem+json before Node's HTTP parser is attached to them. The refusal
 * reads and drops what the client sent (so closing sends FIN, not a reset that
 * could swallow the answer) and closes the socket within a second; past a
 * budget of lingering refusals a socket is closed at once, so a flood of
 * connections costs a file descriptor only for the moment of its accept.
 */
export function applyConnectionLimits(server: Server, limits: ConnectionLimits, registry: Registry): LimitMetrics {
  let open = 0;
  let lingering = 0;
  const perAddress = new Map<string, number>();
  const metrics = limitMetrics(registry, () => open);
  /**
   * Admitted connections: their address key, and since when they have been idle between two requests of
   * a kept-alive connection (null while a request is in flight, or before the first one).
   */
  const admitted = new Map<Socket, { key: string; idleSince: number | null }>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const entry = admitted.get(request.socket);
    if (!entry) return;
    entry.idleSince = null;
    response.once('close', () => {
      if (!request.socket.destroyed) entry.idleSince = Date.now();
    });
  });
  /**
   * At a cap, the longest-idle kept-alive connection (of `key`, or of anyone) makes room: a client that
   * holds connections open between rare requests cannot keep the cap full for others. Connections
   * that never finished a request are left to the header and request timeouts.
   */
  const evictIdle = (key?: string): boolean => {
    let oldest: [Socket, number] | undefined;
    for (const [socket, entry] of admitted) {
      if (entry.idleSince === null || (key !== undefined && entry.key !== key)) continue;
      if (!oldest || entry.idleSince < oldest[1]) oldest = [socket, entry.idleSince];
    }
    if (!oldest) return false;
    metrics.evicted.inc();
    // Out of the list at once: its 'close' (which lowers the counts) comes later, and the next connection of
    // the same burst must find another idle one to displace, not this one again.
    admitted.delete(oldest[0]);
    oldest[0].destroy();
    return true;
  };
  listenWithBacklog(server, limits.listenBacklog);
  const httpListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');

  const refuse = (socket: Socket, reason: 'total' | 'address') => {
    metrics.refused.inc({ reason });
    socket.on('error', () => {
      // A refused client that resets the connection: nothing is owed to it.
    });
    if (lingering >= MAX_LINGERING_REFUSALS) {
      socket.destroy();
      return;
    }
    lingering++;
    const detail =
      reason === 'total'
        ? 'The server holds as many connections as it allows; try again in a moment.'
        : 'Too many connections from this address are open; close some or try again in a moment.';
    const requestId = randomUUID();
    socket.resume();
    socket.end(
      rawProblemResponse(
        {
          ...problem(503, TOO_MANY_CONNECTIONS, detail, { retryAfterSeconds: REFUSAL_RETRY_AFTER_SECONDS }),
          requestId,
        },
        { 'retry-after': String(REFUSAL_RETRY_AFTER_SECONDS), 'x-request-id': requestId },
      ),
    );
    const timer = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
    timer.unref();
    socket.once('close', () => {
      lingering--;
      clearTimeout(timer);
    });
  };

  server.on('connection', (socket: Socket) => {
    const key = addressKey(socket.remoteAddress);
    const fromAddress = perAddress.get(key) ?? 0;
    // An evicted socket's count drops on its 'close', a moment later: until then the new one is let in over the cap.
    if (limits.maxConnections > 0 && open >= limits.maxConnections && !evictIdle()) return refuse(socket, 'total');
    if (limits.maxConnectionsPerAddress > 0 && fromAddress >= limits.maxConnectionsPerAddress && !evictIdle(key)) {
      return refuse(socket, 'address');
    }
    open++;
    perAddress.set(key, fromAddress + 1);
    admitted.set(socket, { key, idleSince: null });
    socket.once('close', () => {
      admitted.delete(socket);
      open--;
      const left = (perAddress.get(key) ?? 1) - 1;
      if (left > 0) perAddress.set(key, left);
      else perAddress.delete(key);
    });
    for (const listener of httpListeners) listener.call(server, socket);
  });
  return metrics;
}

/**
 * fastify passes its listen options through to the server and sets no
 * backlog (Node's default is 511); the backlog is the server's, whoever calls
 * listen (the standalone server, the all-in-one launcher, a test).
 */
function listenWithBacklog(server: Server, backlog: number): void {
  const listen = server.listen.bind(server) as (...args: unknown[]) => Server;
  server.listen = ((...args: unknown[]) => {
    const [options] = args;
    if (typeof options === 'object' && options !== null && (options as { backlog?: number }).backlog === undefined) {
      args[0] = { ...options, backlog };
    }
    return listen(...args);
  }) as Server['listen'];
}

/** Node's refusals of a request it cannot read, by their error code. */
function clientRefusal(
  code: string | undefined,
  limits: ConnectionLimits,
): { status: number; code: string; detail: string } {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        code: 'REQUEST_TIMEOUT',
        detail: `The request did not arrive in time (headers within ${limits.headersTimeoutMs} ms, the whole request within ${limits.requestTimeoutMs} ms).`,
      };
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: 'HEADERS_TOO_LARGE',
        detail: `The request's headers are larger than ${Math.round(maxHeaderSize / 1024)} KiB.`,
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, code: 'PAYLOAD_TOO_LARGE', detail: "The body's chunk extensions are too large." };
    default:
      return { status: 400, code: 'BAD_REQUEST', detail: 'The request could not be read as HTTP/1.1.' };
  }
}

/**
 * fastify's `clientErrorHandler`: what Node cannot read as a request (a
 * timeout, headers over the size limit, a malformed request line) is answered
 * problem+json with a stable code, as every other refusal, unless part of a
 * response was already sent; then the connection is closed.
 */
export function clientErrorHandler(limits: ConnectionLimits, log: Logger, metrics: LimitMetrics) {
  return (error: NodeJS.ErrnoException, socket: Socket): void => {
    // A connection reset: the socket is gone and nobody reads an answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const refusal = clientRefusal(error.code, limits);
    metrics.clientErrors.inc({ code: refusal.code });
    // A request whose headers were read (a body that never ends) has an id already.
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    const known = (inFlight?.req as { [RAW_REQUEST_ID]?: string } | undefined)?.[RAW_REQUEST_ID];
    const requestId = known ?? randomUUID();
    log.debug({ reqId: requestId, code: error.code, remoteAddress: socket.remoteAddress }, 'client error');
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    socket.on('error', () => {
      // The client went away while its refusal was written: nothing more to do.
    });
    socket.end(
      rawProblemResponse(
        { ...problem(refusal.status, refusal.code, refusal.detail), requestId },
        { 'x-request-id': requestId },
      ),
      () => socket.destroy(),
    );
    // A client that never reads its answer does not keep the socket past the linger time.
    setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
  };
}
