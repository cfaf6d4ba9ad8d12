/**
 * Settings every sandbox server is started with, on its command line: they hold for the servers of layers
 * built before they were chosen (a layer's postgresql.conf is the template's of its day), and none of them
 * can change what a query answers, so no state key moves with them (ADR 0058).
 *
 * - The background writer and the WAL writer wake every 200 ms by default. The background writer writes
 *   nothing here (bgwriter_lru_maxpages = 0), and the WAL writer only hands asynchronous commits to the
 *   kernel (fsync is off). Yet a server whose learner writes every 5–20 s kept them awake several times a
 *   second: 0.157 ms of CPU a second per server against 0.012 with these settings (bench/idle-servers.js),
 *   0.13 cores at 900 learners, paid for nothing.
 * - Commits are synchronous: with fsync off that is one write() of the WAL to the kernel per commit, no
 *   flush to disk. An asynchronous commit waits in the WAL buffers for the WAL writer, up to three of its
 *   delays (30 s at 10 s): a backend that crashed meanwhile (an out-of-memory kill) would take the learner's
 *   last commits with it. A learner who sets synchronous_commit off takes that risk for their own session.
 */
export const SERVER_START_SETTINGS: Readonly<Record<string, string>> = {
  bgwriter_delay: '10s',
  wal_writer_delay: '10s',
  synchronous_commit: 'on',
};

/** SERVER_START_SETTINGS as `postgres` arguments: `-c name=value` each. */
export function serverStartArgs(): string[] {
  return Object.entries(SERVER_START_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}
