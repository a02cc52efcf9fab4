/**
 * Text that PostgreSQL can store (issue #8, row 9). Postgres rejects two things JavaScript
 * strings can hold: the NUL character (in `text` columns, and `\u0000` in `jsonb`: SQLSTATE
 * 22P05) and lone UTF-16 surrogates (no valid UTF-8 encoding; `jsonb` rejects the `\ud800`
 * escape). Tool output (a binary file, `printf '\0'`), tool arguments and model output can
 * contain both, so everything the daemon persists goes through here first:
 *
 * - NUL (U+0000) becomes U+FFFD REPLACEMENT CHARACTER;
 * - a high surrogate not followed by a low one, or a low surrogate not preceded by a high one,
 *   becomes U+FFFD (what `String.prototype.toWellFormed` does, and what a UTF-8 decoder does
 *   with bytes it cannot decode, so a binary file reads the same way throughout);
 * - everything else, valid surrogate pairs (emoji) included, is kept as it is.
 *
 * API input is not repaired but refused (src/text/input-plugin.ts): a user should know.
 */
export const REPLACEMENT_CHARACTER = '\uFFFD';

/** Matches what needs replacing; the fast path for the (usual) clean string is one test(). */
// eslint-disable-next-line no-control-regex -- matching NUL is this module's whole purpose
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/** True when `text` holds a NUL or a lone surrogate. */
export function hasUnstorableText(text: string): boolean {
  return UNSTORABLE.test(text);
}

/** `text` with every NUL and lone surrogate replaced by U+FFFD. */
export function storableText(text: string): string {
  return UNSTORABLE.test(text) ? text.replace(UNSTORABLE_ALL, REPLACEMENT_CHARACTER) : text;
}

/**
 * A JSON value (parts, tool arguments and results) with every string, object keys included,
 * made storable. Returns the same object when nothing needed replacing, so the common case
 * allocates nothing.
 */
export function storableJson<T>(value: T): T {
  return repair(value) as T;
}

function repair(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const repaired = repair(item);
      if (repaired !== item) changed = true;
      return repaired;
    });
    return changed ? out : value;
  }
  if (value !== null && typeof value === 'object' && isPlainObject(value)) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const repairedKey = storableText(key);
      const repaired = repair(item);
      if (repairedKey !== key || repaired !== item) changed = true;
      out[repairedKey] = repaired;
    }
    return changed ? out : value;
  }
  return value;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
