import { describe, expect, it } from 'vitest';
import {
  addUsage,
  computeCostMicros,
  totalTokens,
  ZERO_USAGE,
  type TokenUsage,
} from '../../../src/llm/index.js';

const usage: TokenUsage = {
  inputTokens: 1_000,
  outputTokens: 500,
  reasoningTokens: 200,
  cacheReadTokens: 4_000,
  cacheWriteTokens: 2_000,
};

describe('computeCostMicros', () => {
  it('bills each kind of token at its own price per million', () => {
    const cost = computeCostMicros(usage, {
      inputPriceMicros: 2_500_000,
      outputPriceMicros: 10_000_000,
      cacheReadPriceMicros: 1_250_000,
      cacheWritePriceMicros: 3_000_000,
    });

    // 1000×2.5 + 500×10 + 4000×1.25 + 2000×3 micro-dollars; reasoning is inside output.
    expect(cost).toBe(2_500 + 5_000 + 5_000 + 6_000);
  });

  it('counts a null price as free', () => {
    const cost = computeCostMicros(usage, {
      inputPriceMicros: 1_000_000,
      outputPriceMicros: null,
      cacheReadPriceMicros: null,
      cacheWritePriceMicros: null,
    });

    expect(cost).toBe(1_000);
  });

  it('keeps fractions of a micro-dollar', () => {
    const cost = computeCostMicros(
      { ...ZERO_USAGE, inputTokens: 3 },
      {
        inputPriceMicros: 150_000,
        outputPriceMicros: null,
        cacheReadPriceMicros: null,
        cacheWritePriceMicros: null,
      },
    );

    expect(cost).toBeCloseTo(0.45, 10);
  });
});

describe('addUsage', () => {
  it('sums every field and leaves ZERO_USAGE untouched', () => {
    const twice = addUsage(addUsage(ZERO_USAGE, usage), usage);

    expect(twice).toEqual({
      inputTokens: 2_000,
      outputTokens: 1_000,
      reasoningTokens: 400,
      cacheReadTokens: 8_000,
      cacheWriteTokens: 4_000,
    });
    expect(ZERO_USAGE.inputTokens).toBe(0);
    expect(Object.isFrozen(ZERO_USAGE)).toBe(true);
  });
});

describe('totalTokens', () => {
  it('counts prompt buckets and output once, reasoning being inside output', () => {
    expect(totalTokens(usage)).toBe(1_000 + 4_000 + 2_000 + 500);
  });
});
