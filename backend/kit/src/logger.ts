import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

/**
 * Paths pino removes from every log line: credentials and user SQL must never
 * reach logs (ARCHITECTURE §10). Request bodies are not logged at all; these
 * cover objects that code passes to the logger explicitly.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-taidon-service-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.secret',
  '*.sql',
  '*.head',
  '*.tail',
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'sql',
];

/** Options of createLogger. */
export interface LoggerSettings {
  /** `service` field on every line, so lines of the all-in-one process stay apart. */
  service: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to capture lines. */
  destination?: DestinationStream;
  /** Pretty lines for a person; the default is pretty only when stdout is a TTY. */
  pretty?: boolean;
}

/** A pino logger with Taidon's redaction and fields. JSON unless pretty is asked or stdout is a TTY. */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { service: settings.service },
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (settings.destination) return pino(options, settings.destination);
  const pretty = settings.pretty ?? process.stdout.isTTY === true;
  if (pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
    });
  }
  return pino(options);
}
