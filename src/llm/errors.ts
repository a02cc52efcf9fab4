import { storableText } from '../text/storable.js';
import { HttpStatus, isServerErrorStatus } from '../http-status.js';
import * as anthropic from '@anthropic-ai/sdk';
import * as openai from 'openai';

// Both SDKs have the same error family; the provider layer treats them alike.
type APIError = openai.APIError | anthropic.APIError;
const isApiError = (err: unknown): err is APIError =>
  err instanceof openai.APIError || err instanceof anthropic.APIError;
const isUserAbort = (err: unknown) =>
  err instanceof openai.APIUserAbortError || err instanceof anthropic.APIUserAbortError;
const isConnectionTimeout = (err: unknown) =>
  err instanceof openai.APIConnectionTimeoutError ||
  err instanceof anthropic.APIConnectionTimeoutError;
const isConnectionError = (err: unknown) =>
  err instanceof openai.APIConnectionError || err instanceof anthropic.APIConnectionError;

/** Statuses of Anthropic's error types, for an `error` event inside a stream (which has none). */
const ANTHROPIC_ERROR_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};

const MS_PER_SECOND = 1000;
/** Providers sometimes answer with a whole HTML error page; users need the first lines only. */
const MAX_MESSAGE_CHARS = 500;
/** Enough to reach the socket error under undici's "fetch failed" / "terminated" wrappers. */
const MAX_CAUSE_DEPTH = 5;
const REDACTED = '[redacted]';

export interface ProviderErrorOptions {
  status?: number;
  /** Whether trying the same call again later can succeed. Default false. */
  transient?: boolean;
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * A failed model call. `message` is meant for users (it ends up in Chat.lastError and RetryEvent)
 * and never contains the API key; `cause` keeps the original error for logs.
 */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly status: number | undefined;
  readonly transient: boolean;
  /** What the provider asked us to wait (Retry-After / retry-after-ms), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: ProviderErrorOptions = {}) {
    // Redacted (generic shapes; callers also pass the provider's own key, see userMessage) and
    // storable, because this message goes to the database and to every subscriber.
    super(
      storableText(redactSecrets(message)),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.status = options.status;
    this.transient = options.transient ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * True for the error a cancelled call rejects with: a DOMException/Error named AbortError (what
 * `AbortController.abort()` produces) or the openai SDK's APIUserAbortError.
 */
export function isAbortError(err: unknown): boolean {
  if (isUserAbort(err)) return true;
  return typeof err === 'object' && err !== null && 'name' in err && err.name === 'AbortError';
}

/** Transient statuses: the provider is overloaded, rate limiting, or briefly broken. */
export function isTransientStatus(status: number): boolean {
  return (
    status === HttpStatus.REQUEST_TIMEOUT ||
    status === HttpStatus.CONFLICT ||
    status === HttpStatus.TOO_EARLY ||
    status === HttpStatus.TOO_MANY_REQUESTS ||
    isServerErrorStatus(status)
  );
}

/** Parses `retry-after-ms`, then `retry-after` (seconds or an HTTP date). */
export function parseRetryAfter(
  headers: Pick<Headers, 'get'> | undefined,
  now: number = Date.now(),
): number | undefined {
  const millis = headers?.get('retry-after-ms');
  if (millis) {
    const value = Number(millis);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const retryAfter = headers?.get('retry-after');
  if (!retryAfter) return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * MS_PER_SECOND;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
// undici reports a body cut mid-stream as TypeError("terminated") caused by "other side closed".
const TRANSIENT_NETWORK_MESSAGE = /socket hang up|terminated|other side closed|timed? ?out/i;

function* causeChain(err: unknown): Generator<unknown> {
  let current = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current !== undefined; depth += 1) {
    yield current;
    current = current instanceof Error ? current.cause : undefined;
  }
}

function isTransientNetworkError(err: unknown): boolean {
  for (const link of causeChain(err)) {
    if (typeof link !== 'object' || link === null) continue;
    if ('code' in link && typeof link.code === 'string' && TRANSIENT_NETWORK_CODES.has(link.code)) {
      return true;
    }
    if (link instanceof Error && TRANSIENT_NETWORK_MESSAGE.test(link.message)) return true;
  }
  return false;
}

/** The innermost message of a cause chain: "other side closed" says more than "terminated". */
function rootMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  for (const link of causeChain(err)) {
    if (link instanceof Error && link.message) message = link.message;
  }
  return message;
}

/** The error object of an Anthropic body ({ type: 'error', error: { type, message } }). */
function anthropicErrorBody(err: APIError): { type?: unknown; message?: unknown } | undefined {
  const body: unknown = err.error;
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const inner: unknown = body.error;
  return typeof inner === 'object' && inner !== null ? inner : undefined;
}

function bodyMessage(err: APIError): string | undefined {
  const body: unknown = anthropicErrorBody(err) ?? err.error;
  if (typeof body === 'object' && body !== null && 'message' in body) {
    return typeof body.message === 'string' ? body.message : JSON.stringify(body.message);
  }
  return undefined;
}

/** Fragments of a configured key shorter than this are not treated as the key. */
const MIN_KEY_FRAGMENT = 8;
/** Runs of key-like characters: candidates for "a fragment of the configured key". */
const KEYISH_RUN = /[A-Za-z0-9_\-+/=]{8,}/g;
/** Secret shapes, each replaced whole (the prefix kept where it says what kind of secret). */
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  // OpenAI / Anthropic style keys: sk-…, sk-proj-…, sk-ant-…
  [/\bsk-[A-Za-z0-9_-]{6,}/g, `sk-${REDACTED}`],
  // Authorization schemes; case-sensitive so prose ("an invalid token was …") stays readable.
  [/\b([Bb]earer|Basic)(\s+)[^\s"',;]+/g, `$1$2${REDACTED}`],
  // key=…, api_key: "…", "x-api-key": "…", token=…, secret=…, password=…
  [
    /\b((?:x-)?(?:api[_-]?)?key|access[_-]?token|token|secret|password|authorization)("?\s*[:=]\s*"?)(?!(?:[Bb]earer|Basic)\s)[^\s"',;&]+/gi,
    `$1$2${REDACTED}`,
  ],
  // JSON Web Tokens, AWS access key ids, Google API keys, GitHub tokens.
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]+)?/g, REDACTED],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{30,}/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, REDACTED],
  // Long hex (32+: 128-bit and longer secrets, hashes) …
  [/\b[0-9a-f]{32,}\b/gi, REDACTED],
];
/** … and long base64 / base64url runs that mix letters and digits (not plain words). */
const LONG_BASE64 = /[A-Za-z0-9+/_-]{32,}={0,2}/g;
const HAS_DIGIT = /\d/;
const HAS_LETTER = /[A-Za-z]/;

/**
 * Removes secrets from text a provider sent back (issue #8): the given ones (the provider's own
 * key) and any fragment of them of 8+ characters, plus anything shaped like a key, a bearer or
 * basic credential, a `key=value` secret, a JWT, or a long hex / base64 string. Used on every
 * ProviderError message, so nothing reaches Chat.lastError, RetryEvents or logs unredacted.
 */
export function redactSecrets(text: string, secrets: readonly (string | null | undefined)[] = []) {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    out = out.split(secret).join(REDACTED);
    if (secret.length >= MIN_KEY_FRAGMENT) {
      out = out.replace(KEYISH_RUN, (run) => (secret.includes(run) ? REDACTED : run));
    }
  }
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out.replace(LONG_BASE64, (run) =>
    HAS_DIGIT.test(run) && HAS_LETTER.test(run) ? REDACTED : run,
  );
}

function userMessage(text: string, secrets: readonly (string | null | undefined)[]): string {
  const clean = redactSecrets(text, secrets).trim();
  return clean.length > MAX_MESSAGE_CHARS ? `${clean.slice(0, MAX_MESSAGE_CHARS)}…` : clean;
}

export interface ToProviderErrorOptions {
  /** Strings that must not appear in the message, typically the provider's API key. */
  secrets?: readonly (string | null | undefined)[];
}

/**
 * Normalises anything a provider call threw. Callers check their own AbortSignal first: an abort
 * is not a provider failure and should be rethrown as-is rather than passed here.
 */
export function toProviderError(err: unknown, options: ToProviderErrorOptions = {}): ProviderError {
  const secrets = options.secrets ?? [];
  // Also one the SDK wrapped (e.g. the network policy refusing a URL inside fetch).
  for (const link of causeChain(err)) if (link instanceof ProviderError) return link;

  if (isConnectionTimeout(err)) {
    return new ProviderError('Timed out waiting for the model provider', {
      transient: true,
      cause: err,
    });
  }
  if (isUserAbort(err)) {
    return new ProviderError('The request to the model provider was aborted', {
      transient: true,
      cause: err,
    });
  }
  if (isConnectionError(err)) {
    const detail = userMessage(rootMessage(err), secrets);
    return new ProviderError(`Could not reach the model provider: ${detail}`, {
      transient: true,
      cause: err,
    });
  }
  if (isApiError(err)) {
    const detail = userMessage(bodyMessage(err) ?? err.message, secrets);
    if (typeof err.status === 'number') {
      return new ProviderError(`Model provider returned HTTP ${err.status}: ${detail}`, {
        status: err.status,
        transient: isTransientStatus(err.status),
        retryAfterMs: parseRetryAfter(err.headers),
        cause: err,
      });
    }
    // No status: an error event inside an otherwise successful stream. Some gateways put the
    // upstream HTTP status in `code`; without one, assume the upstream hiccupped.
    // Anthropic names the kind of failure instead (overloaded_error, invalid_request_error, …).
    const anthropicType = anthropicErrorBody(err)?.type;
    const code: unknown =
      typeof anthropicType === 'string'
        ? ANTHROPIC_ERROR_STATUS[anthropicType]
        : 'code' in err
          ? err.code
          : undefined;
    const status = typeof code === 'number' ? code : Number.parseInt(String(code), 10);
    const known = Number.isInteger(status) && status > 0;
    return new ProviderError(`Model provider reported an error: ${detail}`, {
      status: known ? status : undefined,
      transient: known ? isTransientStatus(status) : true,
      cause: err,
    });
  }
  if (isTransientNetworkError(err)) {
    const detail = userMessage(rootMessage(err), secrets);
    return new ProviderError(`Connection to the model provider failed: ${detail}`, {
      transient: true,
      cause: err,
    });
  }
  const detail = userMessage(err instanceof Error ? err.message : String(err), secrets);
  return new ProviderError(`Model provider call failed: ${detail}`, { cause: err });
}
