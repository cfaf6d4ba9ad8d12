import { connect, type Socket } from 'node:net';

/** What came back on a raw connection, and when it was closed. */
export interface RawAnswer {
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from the connection's opening to its close by the server. */
  closedAfterMs: number;
}

/** A connection opened by hand, to send what no HTTP client would (half a request, a header of 20 KiB). */
export interface RawConnection {
  socket: Socket;
  /** Resolves once the server closed the connection, with what it answered. */
  closed: Promise<RawAnswer>;
}

/** Splits a raw HTTP/1.1 answer into status, lower-cased headers and body. */
export function parseAnswer(raw: string): Omit<RawAnswer, 'closedAfterMs'> {
  const split = raw.indexOf('\r\n\r\n');
  const head = split < 0 ? raw : raw.slice(0, split);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = /^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1];
  return { status: status ? Number(status) : undefined, headers, body: split < 0 ? '' : raw.slice(split + 4) };
}

/**
 * Opens a TCP connection to `url`'s host and port (from `localAddress` when
 * given: 127.0.0.2 is another client address on the loopback) and writes
 * `first`; the caller may write more on `socket`.
 */
export function openRaw(url: string, first: string, localAddress?: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const openedAt = performance.now();
    const socket = connect({ host: hostname, port: Number(port), ...(localAddress ? { localAddress } : {}) });
    let raw = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      raw += chunk;
    });
    const closed = new Promise<RawAnswer>((done) => {
      socket.on('close', () => done({ ...parseAnswer(raw), closedAfterMs: performance.now() - openedAt }));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answer arrived still counts as closed by the server.
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.once('connect', () => {
      if (first) socket.write(first);
      resolve({ socket, closed });
    });
  });
}

/** Sends one whole request on a fresh connection and reads the answer up to the close. */
export async function rawExchange(url: string, request: string, localAddress?: string): Promise<RawAnswer> {
  const connection = await openRaw(url, request, localAddress);
  return connection.closed;
}
