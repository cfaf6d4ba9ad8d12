import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type Write = (...args: unknown[]) => void;

/**
 * The logger of one request, whose pino child (with the request's `reqId`) is made when it writes its first
 * line, or is asked for what only a child knows. fastify makes that child for every request, before anything is
 * logged: the bindings serialised through the redaction, a formatters object built (pino's child with options),
 * although at level warn a request that succeeds writes no line at all (issue 22). A line that is written is
 * the same as the child's.
 */
class RequestLogger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindingsOfRequest: Bindings,
  ) {}

  private get real(): Logger {
    this.made ??= this.parent.child(this.bindingsOfRequest);
    return this.made;
  }

  private write(level: Level, args: unknown[]): void {
    const logger = this.made ?? this.parent;
    if (!logger.isLevelEnabled(level)) return;
    const real = this.real;
    (real[level] as Write).apply(real, args);
  }

  get level(): string {
    return (this.made ?? this.parent).level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.made ?? this.parent).isLevelEnabled(level);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.real.child(bindings, options);
  }

  bindings(): Bindings {
    return this.real.bindings();
  }
}

/**
 * fastify's childLoggerFactory for createBaseApp: a RequestLogger, or pino's child at once when the route asks
 * for a level or serializers of its own (fastify passes them only then).
 */
export function requestLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  const parent = logger as Logger;
  if (options.level !== undefined || options.serializers !== undefined) return parent.child(bindings, options);
  return new RequestLogger(parent, bindings) as unknown as FastifyBaseLogger;
}
