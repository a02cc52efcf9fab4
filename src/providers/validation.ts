import { badInput } from '../errors.js';

/**
 * Input checks shared by providers and model configs. Each throws BAD_USER_INPUT naming the one
 * field at fault (B6), so a rejected mutation never reaches the database.
 */
export const DISPLAY_NAME_MAX = 100;
export const MODEL_NAME_MAX = 200;
export const BASE_URL_MAX = 2048;
/** Real keys are well under 1 KiB; the cap only stops a pasted file from being stored. */
export const API_KEY_MAX = 4096;
export const COMPRESSION_THRESHOLD_MIN = 0;
export const COMPRESSION_THRESHOLD_MAX = 100;
export const DEFAULT_COMPRESSION_THRESHOLD = 70;

export function trimmedName(field: string, value: string, max: number): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > max) {
    throw badInput(field, `${field} must be 1-${max} characters`);
  }
  return trimmed;
}

/** An http(s) URL, or null for "none" (null, absent or blank). */
export function optionalBaseUrl(value: string | null | undefined): string | null {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') return null;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw badInput('baseUrl', 'baseUrl must be an http(s) URL');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || trimmed.length > BASE_URL_MAX) {
    throw badInput('baseUrl', 'baseUrl must be an http(s) URL');
  }
  return trimmed;
}

/** The key to store, or null for "no key" (null, absent or blank). */
export function optionalApiKey(value: string | null | undefined): string | null {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') return null;
  if (trimmed.length > API_KEY_MAX) {
    throw badInput('apiKey', `apiKey must be at most ${API_KEY_MAX} characters`);
  }
  return trimmed;
}

export function positiveInt(field: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw badInput(field, `${field} must be a positive integer`);
  }
  return value;
}

export function compressionThreshold(value: number): number {
  if (
    !Number.isInteger(value) ||
    value < COMPRESSION_THRESHOLD_MIN ||
    value > COMPRESSION_THRESHOLD_MAX
  ) {
    throw badInput(
      'compressionThreshold',
      `compressionThreshold must be an integer from ${COMPRESSION_THRESHOLD_MIN} to ${COMPRESSION_THRESHOLD_MAX}`,
    );
  }
  return value;
}

/**
 * Highest price per million tokens, in micro-dollars: $1,000,000 per million tokens, a thousand
 * times the dearest model sold today. The bound keeps cost arithmetic (tokens x price) far inside
 * the exactly representable integers; 1e308 used to be accepted and made every cost Infinity.
 */
export const MAX_PRICE_MICROS = 1e12;

/** A price per million tokens: a finite number from 0 to MAX_PRICE_MICROS, or null. */
export function optionalPrice(field: string, value: number | null): number | null {
  if (value === null) return null;
  if (!Number.isFinite(value) || value < 0 || value > MAX_PRICE_MICROS) {
    throw badInput(field, `${field} must be a number from 0 to ${MAX_PRICE_MICROS}, or null`);
  }
  return value;
}
