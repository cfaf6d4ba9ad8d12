/**
 * Settings every sandbox server is started with, on its command line: they hold for the servers of layers
 * built before they were chosen (a layer's postgresql.conf is the template's of its day), and none of them
 * can change what a query answers, so no state key moves with them.
 *
 * The background writer and the WAL writer wake every 200 ms by default. The background writer writes nothing
 * here (bgwriter_lru_maxpages = 0) and the WAL writer only hands asynchronous commits to the kernel (fsync is
 * off); yet each learner's instance that ran something in the last 10 s kept both awake five times a second,
 * ~0.5 ms of CPU a second per instance (a server with one write every 5 s: its WAL writer took 28 ms of CPU a
 * minute at 200 ms, 2.6 ms at 10 s), which a machine of hundreds of instances pays for nothing (ADR 0058).
 * At 10 s a commit still reaches the WAL at once when the buffers fill, when a learner's statement needs it,
 * and at every checkpoint, the one a layer's snapshot takes included.
 */
export const SERVER_START_SETTINGS: Readonly<Record<string, string>> = {
  bgwriter_delay: '10s',
  wal_writer_delay: '10s',
};

/** SERVER_START_SETTINGS as `postgres` arguments: `-c name=value` each. */
export function serverStartArgs(): string[] {
  return Object.entries(SERVER_START_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}
