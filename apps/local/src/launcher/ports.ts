import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** Where the kernel takes ports for `listen(0)` and for outgoing connections, and how many below it we search. */
const EPHEMERAL_RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';
const DEFAULT_EPHEMERAL_LOW = 32_768;
const SEARCH_WIDTH = 4_096;

/** The lowest port of the kernel's ephemeral range (32768 when it cannot be read). */
export async function ephemeralLow(file = EPHEMERAL_RANGE_FILE): Promise<number> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const low = Number(text.trim().split(/\s+/)[0]);
  return Number.isInteger(low) && low > 1_024 ? low : DEFAULT_EPHEMERAL_LOW;
}

/** Whether `port` can be listened on at 127.0.0.1 right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * `count` free loopback ports for the platform's services, just below the kernel's ephemeral range. Each service
 * keeps its port for the launcher's life, and a restarted one must find it free again; a port from the ephemeral
 * range (`listen(0)`) can meanwhile be taken by a sandbox server (env-manager picks theirs with `listen(0)`) or be
 * the local end of an outgoing connection, and the restart would fail on it until that ends.
 */
export async function servicePorts(count: number, avoid: readonly number[] = []): Promise<number[]> {
  const high = (await ephemeralLow()) - 1;
  const low = Math.max(1_025, high - SEARCH_WIDTH + 1);
  const width = high - low + 1;
  // A random start: two launchers on one machine (two data directories) do not probe the same ports first.
  const start = Math.floor(Math.random() * width);
  const ports: number[] = [];
  for (let i = 0; i < width && ports.length < count; i++) {
    const port = low + ((start + i) % width);
    if (avoid.includes(port) || ports.includes(port)) continue;
    if (await canListen(port)) ports.push(port);
  }
  if (ports.length < count) throw new Error(`no ${count} free ports between ${low} and ${high}`);
  return ports;
}
