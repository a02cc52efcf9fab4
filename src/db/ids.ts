const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BIGINT_ID_PATTERN = /^[1-9][0-9]{0,18}$/;

/** IDs are opaque to clients; a malformed one simply matches nothing (NOT_FOUND, never INTERNAL). */
export const isUuid = (value: string) => UUID_PATTERN.test(value);

/** Message and queued-message ids are bigserials, exposed as decimal strings. */
export function parseBigIntId(value: string): bigint | null {
  return BIGINT_ID_PATTERN.test(value) ? BigInt(value) : null;
}
