import { connect } from 'node:net';

/** Protocol code of a CancelRequest (PostgreSQL frontend/backend protocol, 1234 5678). */
const CANCEL_REQUEST_CODE = 80877102;

/**
 * Asks the server to cancel what backend `processId` is running, the way
 * psql's Ctrl+C does: a CancelRequest on a new connection carrying the
 * backend's secret key, no login needed. Resolves once the server closed it.
 */
export function sendCancelRequest(host: string, port: number, processId: number, secretKey: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const message = Buffer.alloc(16);
    message.writeInt32BE(16, 0);
    message.writeInt32BE(CANCEL_REQUEST_CODE, 4);
    message.writeInt32BE(processId, 8);
    message.writeInt32BE(secretKey, 12);
    socket.setTimeout(5_000, () => socket.destroy(new Error('cancel request timed out')));
    socket.once('connect', () => socket.end(message));
    socket.once('error', reject);
    socket.once('close', () => resolve());
  });
}
