import type { ParsedStatement } from './parse.js';

/**
 * Whether a transaction block is open after `statement`, given whether one
 * was open before. Only transaction statements move it: a procedure that
 * COMMITs inside CALL cannot leave a block open (and cannot commit inside one).
 */
export function transactionOpenAfter(openBefore: boolean, statement: ParsedStatement): boolean {
  if (statement.kind !== 'TransactionStmt') return openBefore;
  switch (statement.node.kind) {
    case 'TRANS_STMT_BEGIN':
    case 'TRANS_STMT_START':
      return true;
    case 'TRANS_STMT_COMMIT':
    case 'TRANS_STMT_ROLLBACK':
      return statement.node.chain === true ? openBefore : false;
    case 'TRANS_STMT_PREPARE':
      return false;
    default:
      return openBefore; // SAVEPOINT, RELEASE, ROLLBACK TO, COMMIT/ROLLBACK PREPARED
  }
}
