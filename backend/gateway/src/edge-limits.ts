import { type ConnectionLimits, envInt } from '@taidon/kit';

/**
 * Environment variables of the gateway's connection and request limits (part
 * of hardeningConfigSpec, so the standalone gateway and `npm start` read the
 * same ones). Defaults and the reasons for them: ADR 0022.
 */
export const edgeLimitsConfigSpec = {
  MAX_CONNECTIONS: envInt(
    'Client connections the gateway holds open at once, idle kept-alive ones included; one more is answered 503 `TOO_MANY_CONNECTIONS` with Retry-After and closed. Keep it well under the process’s file-descriptor limit (every proxied request may hold a second descriptor toward a service). 0: no cap.',
    { default: 4_096, min: 0, max: 1_000_000 },
  ),
  MAX_CONNECTIONS_PER_ADDRESS: envInt(
    'Client connections one address (IPv6: one /64) may hold open at once. A browser opens up to six; raise it when more learners than about 170 share one address (a campus NAT). Behind a reverse proxy every connection comes from the proxy: set 0 (no cap) and cap per client at the proxy.',
    { default: 1_024, min: 0, max: 1_000_000 },
  ),
  HEADERS_TIMEOUT_MS: envInt(
    "Time a client has to send a request's headers, from the connection's opening (or a kept-alive request's first byte); past it 408 `REQUEST_TIMEOUT` and the connection is closed.",
    { default: 10_000, min: 100, max: 600_000 },
  ),
  REQUEST_TIMEOUT_MS: envInt(
    'Time a client has to send a whole request, body included (408 `REQUEST_TIMEOUT` past it). It bounds receiving only: a run’s stream answers for as long as the run lasts. A 64 MiB plan on a slow uplink needs more than the default.',
    { default: 60_000, min: 100, max: 3_600_000 },
  ),
  KEEP_ALIVE_TIMEOUT_MS: envInt(
    'How long an idle kept-alive client connection stays open between requests. Keep it longer than the idle timeout of a proxy in front (60 s for most), so the proxy never reuses a connection the gateway is closing.',
    { default: 72_000, min: 100, max: 600_000 },
  ),
  LISTEN_BACKLOG: envInt(
    'Connections the kernel queues for the gateway to accept (capped by the kernel’s net.core.somaxconn). With Node’s 511, a flood of connections overflowed the queue and every other client’s connection waited a second for its retry.',
    { default: 4_096, min: 1, max: 65_535 },
  ),
};

/** The limits as configured; any left unset keeps its documented default. */
export interface EdgeLimitSettings {
  MAX_CONNECTIONS?: number;
  MAX_CONNECTIONS_PER_ADDRESS?: number;
  HEADERS_TIMEOUT_MS?: number;
  REQUEST_TIMEOUT_MS?: number;
  KEEP_ALIVE_TIMEOUT_MS?: number;
  LISTEN_BACKLOG?: number;
}

const parsedDefault = (name: keyof typeof edgeLimitsConfigSpec): number => edgeLimitsConfigSpec[name].parse(undefined);

/** The kit's ConnectionLimits for the gateway's server, from its settings. */
export function edgeLimitsOf(settings: EdgeLimitSettings): ConnectionLimits {
  return {
    maxConnections: settings.MAX_CONNECTIONS ?? parsedDefault('MAX_CONNECTIONS'),
    maxConnectionsPerAddress: settings.MAX_CONNECTIONS_PER_ADDRESS ?? parsedDefault('MAX_CONNECTIONS_PER_ADDRESS'),
    headersTimeoutMs: settings.HEADERS_TIMEOUT_MS ?? parsedDefault('HEADERS_TIMEOUT_MS'),
    requestTimeoutMs: settings.REQUEST_TIMEOUT_MS ?? parsedDefault('REQUEST_TIMEOUT_MS'),
    keepAliveTimeoutMs: settings.KEEP_ALIVE_TIMEOUT_MS ?? parsedDefault('KEEP_ALIVE_TIMEOUT_MS'),
    listenBacklog: settings.LISTEN_BACKLOG ?? parsedDefault('LISTEN_BACKLOG'),
  };
}
