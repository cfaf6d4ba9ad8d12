import type { AuditVerification } from '@taidon/contracts';
import type pg from 'pg';
import { selectChainPage } from '../store/events.js';
import { chainHash, GENESIS_HASH } from './chain.js';

const PAGE = 1000;

/**
 * Re-hashes the whole chain in order. An altered row breaks its own hash; a
 * removed or inserted row breaks the link (prev_hash) or the numbering of the
 * next. Removing the newest rows is only visible against a head hash
 * recorded elsewhere, which is why the answer carries `headHash`.
 */
export async function verifyChain(pool: pg.Pool): Promise<AuditVerification> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1n;
  let checked = 0;
  for (;;) {
    const page = await selectChainPage(pool, (expectedSeq - 1n).toString(), PAGE);
    for (const event of page) {
      const broken =
        BigInt(event.seq) !== expectedSeq || event.prevHash !== prevHash || chainHash(prevHash, event) !== event.hash;
      if (broken) return { ok: false, checked, headHash: null, firstBadId: event.id, firstBadSeq: event.seq };
      prevHash = event.hash;
      expectedSeq += 1n;
      checked += 1;
    }
    if (page.length < PAGE) break;
  }
  return { ok: true, checked, headHash: checked === 0 ? null : prevHash };
}
