import { pino, stdSerializers, stdTimeFunctions, type Logger as PinoLogger } from 'pino';

/**
 * Structured logging (JSON lines on stderr) on pino, behind the small interface the code uses:
 * `log.info(message, fields)`. Two guarantees on top of pino:
 * - fields whose names look secret are redacted at any depth, so a provider key or token passed by
 *   mistake never reaches the log (B7);
 * - an Error anywhere in the fields keeps its stack and cause chain (pino's error serializer), so
 *   an INTERNAL error can be traced from its log line.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export const REDACTED = '[redacted]';
// custom_headers: an MCP server's custom headers (issue #12) are credentials too.
const SECRET_FIELD = /(api_?key|token|secret|password|authorization|cookie|custom_?headers)/i;
/** Deeper than this, values are summarised: a log line must stay bounded. */
const MAX_DEPTH = 6;

/** A copy of `value` with secret-looking keys redacted and errors serialised with their stacks. */
export function redactFields(value: unknown, depth = 0): unknown {
  if (value instanceof Error) return redactFields(stdSerializers.errWithCause(value), depth);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? value.toString() : value;
  }
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? '[array]' : '[object]';
  if (Array.isArray(value)) return value.map((item) => redactFields(item, depth + 1));
  if (value instanceof Date) return value.toISOString();
  const out: LogFields = {};
  for (const [key, field] of Object.entries(value)) {
    out[key] = SECRET_FIELD.test(key) ? REDACTED : redactFields(field, depth + 1);
  }
  return out;
}

export interface LoggerOptions {
  /** Where lines go. Default: stderr, written synchronously so nothing is lost on exit. */
  destination?: NodeJS.WritableStream | { write(line: string): void };
}

export function createLogger(
  level: LogLevel,
  base: LogFields = {},
  options: LoggerOptions = {},
): Logger {
  const root = pino(
    {
      level,
      base: undefined,
      timestamp: stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => redactFields(fields) as LogFields,
      },
    },
    options.destination ?? pino.destination({ dest: 2, sync: true }),
  );
  return wrap(Object.keys(base).length > 0 ? root.child(redactFields(base) as LogFields) : root);
}

function wrap(log: PinoLogger): Logger {
  return {
    debug: (message, fields) => log.debug(fields ?? {}, message),
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
    child: (fields) => wrap(log.child(redactFields(fields) as LogFields)),
  };
}
