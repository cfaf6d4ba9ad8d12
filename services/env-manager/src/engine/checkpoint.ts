import type pg from 'pg';

/**
 * Bound of the CHECKPOINT a running instance gets before a layer is taken of it (ADR 0049). Fixed, not a
 * setting: what it writes is bounded by the template's own `shared_buffers` (16MB), into the page cache
 * (`fsync = off`), and an explicit CHECKPOINT also cuts short a timed one that is spreading its writes; a
 * healthy server ends it in milliseconds. Past 5 s the server is stuck (a full disk, an I/O stall), not slow,
 * and sql-runner gives up on the whole layer request after 10 s anyway.
 */
export const LAYER_CHECKPOINT_TIMEOUT_MS = 5_000;

/**
 * Writes every dirty buffer of the server and ends with a checkpoint, so that a snapshot taken right after,
 * while the server runs, holds every commit (a learner's session with `synchronous_commit = off` may still
 * hold its last ones in the WAL buffers) and no page that a checkpoint could be writing at that instant
 * (with `full_page_writes = off`, recovery would not repair such a torn page). Bounded twice: by the server
 * (statement_timeout, 57014: it stops waiting for the checkpointer) and by the client, for a server that no
 * longer answers at all. `client` is a superuser connection.
 */
export async function checkpointForLayer(client: pg.Client): Promise<void> {
  // Ending a client whose query is in flight destroys its socket: the query fails ("Connection terminated").
  const giveUp = setTimeout(() => void client.end().catch(() => {}), LAYER_CHECKPOINT_TIMEOUT_MS + 1_000);
  try {
    await client.query(`SET statement_timeout = ${LAYER_CHECKPOINT_TIMEOUT_MS}`);
    await client.query('CHECKPOINT');
  } finally {
    clearTimeout(giveUp);
  }
}
