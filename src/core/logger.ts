import type { Redactor } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

/**
 * The logger the SDK writes to. Bring your own (pino, winston and console all fit with a one-line
 * adapter); the SDK never prints on its own. Fields handed to it are already redacted.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** The default: discards everything. */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

const levelOrder: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Writes one JSON line per entry to a stream (stderr by default), at or above `level`. */
export function jsonLineLogger(options: { level?: LogLevel; stream?: NodeJS.WritableStream; name?: string } = {}): Logger {
  const min = levelOrder[options.level ?? 'info'];
  const stream = options.stream ?? process.stderr;
  const write = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (levelOrder[level] < min) return;
    const entry = { time: new Date().toISOString(), level, name: options.name ?? 'twinledger', message, ...fields };
    stream.write(`${JSON.stringify(entry)}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** Wraps a logger so that every message and field passes through the redactor first. */
export function redactingLogger(inner: Logger, redactor: Redactor): Logger {
  const wrap = (level: LogLevel) => (message: string, fields?: LogFields) => {
    inner[level](redactor.redactText(message), fields === undefined ? undefined : redactor.redact(fields));
  };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
