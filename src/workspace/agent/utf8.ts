/**
 * Byte-level UTF-8 helpers for cutting buffers without emitting broken characters. Invalid bytes
 * are treated as one-byte characters: they decode to U+FFFD either way and must not hold up output.
 */

/** The longest UTF-8 encoding of one character. */
export const MAX_UTF8_CHAR_BYTES = 4;

/** True for the second, third and fourth bytes of a multi-byte character. */
export const isContinuationByte = (byte: number | undefined): boolean =>
  byte !== undefined && (byte & 0xc0) === 0x80;

/** Length of the character a lead byte announces (1 for ASCII and for invalid bytes). */
function sequenceLength(lead: number): number {
  if (lead >= 0xf0 && lead <= 0xf7) return 4;
  if (lead >= 0xe0) return lead <= 0xef ? 3 : 1;
  if (lead >= 0xc0) return 2;
  return 1;
}

/**
 * How many bytes at the end of `bytes` begin a character whose remaining bytes are missing (0 when
 * `bytes` ends on a character boundary).
 */
export function incompleteSuffixLength(bytes: Uint8Array): number {
  const lookBack = Math.min(bytes.length, MAX_UTF8_CHAR_BYTES - 1);
  for (let back = 1; back <= lookBack; back += 1) {
    const byte = bytes[bytes.length - back];
    if (byte === undefined) return 0;
    if (isContinuationByte(byte)) continue;
    return sequenceLength(byte) > back ? back : 0;
  }
  return 0;
}

/** Number of continuation bytes at the start of `bytes` (the rest of a character cut off before). */
export function leadingContinuationLength(bytes: Uint8Array): number {
  let count = 0;
  while (count < MAX_UTF8_CHAR_BYTES - 1 && isContinuationByte(bytes[count])) count += 1;
  return count;
}
