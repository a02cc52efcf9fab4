import { z } from 'zod';
import type { ProviderKind } from '../llm/index.js';
import { integerFrom, nullMeansUnchanged, numberFrom, withDefault } from '../parse-input.js';
import { generationOptionsShape } from './generation-options.js';

/**
 * The zod schemas of the provider and model config mutations. The service parses each input with
 * parseInput, so the first fault is BAD_USER_INPUT naming its field (B6) and a rejected mutation
 * never reaches the database.
 */
export const DISPLAY_NAME_MAX = 100;
export const MODEL_NAME_MAX = 200;
export const BASE_URL_MAX = 2048;
/** Real keys are well under 1 KiB; the cap only stops a pasted file from being stored. */
export const API_KEY_MAX = 4096;
export const COMPRESSION_THRESHOLD_MIN = 0;
export const COMPRESSION_THRESHOLD_MAX = 100;
export const DEFAULT_COMPRESSION_THRESHOLD = 70;

/**
 * Highest price per million tokens, in micro-dollars: $1,000,000 per million tokens, a thousand
 * times the dearest model sold today. The bound keeps cost arithmetic (tokens x price) far inside
 * the exactly representable integers; 1e308 used to be accepted and made every cost Infinity.
 */
export const MAX_PRICE_MICROS = 1e12;

const PROVIDER_KINDS = [
  'OPENAI',
  'OPENAI_COMPATIBLE',
  'ANTHROPIC',
] as const satisfies readonly ProviderKind[];

function trimmedName(field: string, max: number) {
  const message = `${field} must be 1-${max} characters`;
  return z.string().trim().min(1, message).max(max, message);
}

function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const { protocol } = new URL(text);
  return protocol === 'http:' || protocol === 'https:';
}

/** An http(s) URL; blank parses to null, "none". */
const baseUrl = z
  .string()
  .trim()
  .refine(
    (url) => url === '' || (url.length <= BASE_URL_MAX && isHttpUrl(url)),
    'baseUrl must be an http(s) URL',
  )
  .transform((url) => url || null);

/** The key to store; blank parses to null, "no key". */
const apiKey = z
  .string()
  .trim()
  .max(API_KEY_MAX, `apiKey must be at most ${API_KEY_MAX} characters`)
  .transform((key) => key || null);

export const createProviderSchema = z.object({
  kind: z.enum(PROVIDER_KINDS),
  displayName: trimmedName('displayName', DISPLAY_NAME_MAX),
  // Null or absent is "none", as blank is.
  baseUrl: withDefault(baseUrl, null),
  apiKey: withDefault(apiKey, null),
});

/** Null or absent leaves a field as it is; a blank baseUrl or apiKey removes it (null). */
export const updateProviderSchema = z.object({
  id: z.string(),
  displayName: nullMeansUnchanged(trimmedName('displayName', DISPLAY_NAME_MAX)),
  baseUrl: nullMeansUnchanged(baseUrl),
  apiKey: nullMeansUnchanged(apiKey),
  enabled: nullMeansUnchanged(z.boolean()),
});

const contextLimit = integerFrom(
  1,
  Number.MAX_SAFE_INTEGER,
  'contextLimit must be a positive integer',
);
const compressionThreshold = integerFrom(
  COMPRESSION_THRESHOLD_MIN,
  COMPRESSION_THRESHOLD_MAX,
  `compressionThreshold must be an integer from ${COMPRESSION_THRESHOLD_MIN} to ${COMPRESSION_THRESHOLD_MAX}`,
);

/** A price per million tokens, or null for none; on create and update alike, absent leaves it. */
const price = (field: string) =>
  numberFrom(
    0,
    MAX_PRICE_MICROS,
    `${field} must be a number from 0 to ${MAX_PRICE_MICROS}, or null`,
  )
    .nullable()
    .optional();

const pricesShape = {
  inputPriceMicros: price('inputPriceMicros'),
  outputPriceMicros: price('outputPriceMicros'),
  cacheReadPriceMicros: price('cacheReadPriceMicros'),
  cacheWritePriceMicros: price('cacheWritePriceMicros'),
};

export const createModelConfigSchema = z
  .object({
    providerId: z.string(),
    model: trimmedName('model', MODEL_NAME_MAX),
    displayName: trimmedName('displayName', DISPLAY_NAME_MAX).nullish(),
    contextLimit,
    compressionThreshold: withDefault(compressionThreshold, DEFAULT_COMPRESSION_THRESHOLD),
    isDefault: withDefault(z.boolean(), false),
    ...pricesShape,
    ...generationOptionsShape,
  })
  .transform((config) => ({
    ...config,
    displayName: config.displayName ?? config.model.slice(0, DISPLAY_NAME_MAX),
  }));

/**
 * Null or absent leaves a field as it is, except prices and generation options, where null
 * clears. enabled and isDefault stay as given: the service checks them against the stored config.
 */
export const updateModelConfigSchema = z.object({
  id: z.string(),
  displayName: nullMeansUnchanged(trimmedName('displayName', DISPLAY_NAME_MAX)),
  enabled: z.boolean().nullish(),
  isDefault: z.boolean().nullish(),
  contextLimit: nullMeansUnchanged(contextLimit),
  compressionThreshold: nullMeansUnchanged(compressionThreshold),
  ...pricesShape,
  ...generationOptionsShape,
});
