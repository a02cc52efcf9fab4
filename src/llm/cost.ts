import type { TokenUsage } from './types.js';

/** Micro-dollars (1e-6 USD) per million tokens, as stored on a model config; null means free. */
export interface ModelPrices {
  inputPriceMicros: number | null;
  outputPriceMicros: number | null;
  cacheReadPriceMicros: number | null;
  cacheWritePriceMicros: number | null;
}

const TOKENS_PER_PRICE_UNIT = 1_000_000;

export const ZERO_USAGE: Readonly<TokenUsage> = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
});

/**
 * Cost of one call in micro-dollars, unrounded (costMicros is a float column).
 *
 * Each kind is billed at its own price: inputTokens excludes cached tokens (the provider layer
 * subtracts them from OpenAI's prompt_tokens), so no prompt token is billed twice.
 * reasoningTokens are not billed separately: they are already part of outputTokens.
 */
export function computeCostMicros(usage: TokenUsage, prices: ModelPrices): number {
  const priced =
    usage.inputTokens * (prices.inputPriceMicros ?? 0) +
    usage.outputTokens * (prices.outputPriceMicros ?? 0) +
    usage.cacheReadTokens * (prices.cacheReadPriceMicros ?? 0) +
    usage.cacheWriteTokens * (prices.cacheWritePriceMicros ?? 0);
  return priced / TOKENS_PER_PRICE_UNIT;
}

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
  };
}

/** Every prompt and output token once; reasoning is inside outputTokens already. */
export function totalTokens(usage: TokenUsage): number {
  return usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens + usage.outputTokens;
}
