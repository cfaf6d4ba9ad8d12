import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../logger.js';

/** A logger whose JSON lines are kept in memory, so tests can read what was logged. */
export function captureLogger(service: string): { logger: Logger; lines: () => string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return { logger: createLogger({ service, level: 'debug', destination }), lines: () => [...lines] };
}
