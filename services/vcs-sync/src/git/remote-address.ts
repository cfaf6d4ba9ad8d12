import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { VcsSyncError } from '../errors.js';

/** Answers every address a host name resolves to (node:dns `lookup` with `all`, by default). */
export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), every address of the name. */
export const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

/** Deadline of one name resolution; getaddrinfo itself has none a caller can set. */
const RESOLVE_TIMEOUT_MS = 10_000;

/**
 * Ranges never allowed: loopback, link-local (cloud metadata lives at
 * 169.254.169.254), unspecified, multicast, documentation and reserved ones.
 */
const NEVER_V4: [string, number][] = [
  ['0.0.0.0', 8],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const NEVER_V6: [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];
/** Private networks (RFC 1918, carrier-grade NAT, benchmarking, unique local IPv6): allowed only by VCS_SYNC_ALLOW_PRIVATE_REMOTES. */
const PRIVATE_V4: [string, number][] = [
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
];
const PRIVATE_V6: [string, number][] = [['fc00::', 7]];

/** A block list of the ranges, IPv4 ones also as NAT64 (64:ff9b::/96); IPv4-mapped IPv6 matches the IPv4 rules. */
function blockList(v4: [string, number][], v6: [string, number][]): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of v4) {
    list.addSubnet(network, prefix, 'ipv4');
    list.addSubnet(`64:ff9b::${network}`, 96 + prefix, 'ipv6');
  }
  for (const [network, prefix] of v6) list.addSubnet(network, prefix, 'ipv6');
  return list;
}

const NEVER = blockList(NEVER_V4, NEVER_V6);
const PRIVATE = blockList(PRIVATE_V4, PRIVATE_V6);

/** Whether `address` (textual IPv4 or IPv6) falls in `list`; anything that is no address does. */
function inList(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family === 0 || list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Whether `address` is on the public internet: outside every private, loopback, link-local and reserved range. */
export function isPublicAddress(address: string): boolean {
  return !inList(NEVER, address) && !inList(PRIVATE, address);
}

/** Which addresses a remote may be at (from configuration). */
export interface AddressPolicy {
  /** Plain `http` to 127.0.0.1 (tests and local work). */
  allowLoopbackHttp: boolean;
  /** Private networks (company Git servers inside the network); loopback and link-local stay refused. */
  allowPrivate: boolean;
}

/** A remote's host checked and pinned to one address: git and the probe connect there and nowhere else. */
export interface PinnedAddress {
  /** The URL's host name as curl matches it (brackets off an IPv6 literal). */
  host: string;
  port: number;
  address: string;
  family: 4 | 6;
}

/**
 * Resolves an `http(s)` remote's host (every address of the name) and answers
 * the first, refusing with 422 `VCS_SYNC_REMOTE_ADDRESS_REFUSED` when any of
 * them is not public, unless the policy allows private networks, or it is
 * plain http to 127.0.0.1 with the loopback flag. Checking every address
 * (not only the first) keeps a name with one public and one internal answer
 * out; pinning the one checked (curloptResolve, the probe's lookup) keeps a
 * second, rebound answer out. A name that does not resolve is unreachable.
 */
export async function pinRemoteAddress(
  rawUrl: string,
  policy: AddressPolicy,
  resolve: Resolver = systemResolver,
): Promise<PinnedAddress> {
  const url = new URL(rawUrl);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? (url.protocol === 'http:' ? 80 : 443) : Number(url.port);
  const literal = isIP(host);
  let addresses: { address: string; family: number }[];
  if (literal !== 0) {
    addresses = [{ address: host, family: literal }];
  } else {
    addresses = await withDeadline(resolve(host)).catch((cause: unknown) => {
      throw new VcsSyncError('VCS_SYNC_REMOTE_UNREACHABLE', 'The remote’s host name does not resolve.', { cause });
    });
  }
  const first = addresses[0];
  if (!first) throw new VcsSyncError('VCS_SYNC_REMOTE_UNREACHABLE', 'The remote’s host name does not resolve.');
  // The test flag: plain http whose every address is 127.0.0.1 (checkRemoteUrl lets only that host through).
  const loopbackHttp =
    policy.allowLoopbackHttp && url.protocol === 'http:' && addresses.every(({ address }) => address === '127.0.0.1');
  if (!loopbackHttp && !addresses.every(({ address }) => allowed(address, policy))) {
    throw new VcsSyncError(
      'VCS_SYNC_REMOTE_ADDRESS_REFUSED',
      'The remote is on a private, loopback or reserved network address; remotes are on the public internet.',
    );
  }
  return { host, port, address: first.address, family: first.family === 6 ? 6 : 4 };
}

function allowed(address: string, policy: AddressPolicy): boolean {
  return !inList(NEVER, address) && (policy.allowPrivate || !inList(PRIVATE, address));
}

function withDeadline<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('name resolution timed out')), RESOLVE_TIMEOUT_MS);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** The `-c` setting that makes curl (inside git) connect to the pinned address instead of resolving again. */
export function pinSetting(pin: PinnedAddress): string[] {
  // An address in the URL is not resolved at all.
  if (isIP(pin.host) !== 0) return [];
  const address = pin.family === 6 ? `[${pin.address}]` : pin.address;
  return ['-c', `http.curloptResolve=${pin.host}:${pin.port}:${address}`];
}
