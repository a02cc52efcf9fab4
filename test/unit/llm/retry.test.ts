import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  ProviderError,
  retryDelayMs,
  shouldRetry,
  type RetryPolicy,
} from '../../../src/llm/index.js';

const LOW = () => 0;
const HIGH = () => 1;
const MID = () => 0.5;

describe('backoffDelayMs', () => {
  it('doubles from the base with equal jitter: between half and all of the ceiling', () => {
    expect(backoffDelayMs(1, DEFAULT_RETRY_POLICY, LOW)).toBe(250);
    expect(backoffDelayMs(1, DEFAULT_RETRY_POLICY, HIGH)).toBe(500);
    expect(backoffDelayMs(2, DEFAULT_RETRY_POLICY, HIGH)).toBe(1000);
    expect(backoffDelayMs(3, DEFAULT_RETRY_POLICY, LOW)).toBe(1000);
    expect(backoffDelayMs(3, DEFAULT_RETRY_POLICY, MID)).toBe(1500);
    expect(backoffDelayMs(4, DEFAULT_RETRY_POLICY, HIGH)).toBe(4000);
  });

  it('never exceeds maxDelayMs', () => {
    expect(backoffDelayMs(30, DEFAULT_RETRY_POLICY, HIGH)).toBe(30_000);
    expect(backoffDelayMs(30, DEFAULT_RETRY_POLICY, LOW)).toBe(15_000);
  });

  it('follows the policy it is given', () => {
    const policy: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 250, factor: 3 };

    expect(backoffDelayMs(1, policy, HIGH)).toBe(100);
    expect(backoffDelayMs(2, policy, HIGH)).toBe(250);
  });

  it('uses the provider’s Retry-After instead, capped at maxDelayMs', () => {
    expect(backoffDelayMs(1, DEFAULT_RETRY_POLICY, HIGH, 2_000)).toBe(2_000);
    expect(backoffDelayMs(1, DEFAULT_RETRY_POLICY, HIGH, 0)).toBe(0);
    expect(backoffDelayMs(1, DEFAULT_RETRY_POLICY, HIGH, 3_600_000)).toBe(30_000);
  });

  it('clamps a random source that strays outside [0, 1]', () => {
    expect(backoffDelayMs(1, DEFAULT_RETRY_POLICY, () => 7)).toBe(500);
    expect(backoffDelayMs(1, DEFAULT_RETRY_POLICY, () => -1)).toBe(250);
  });
});

describe('retryDelayMs', () => {
  it('honours the error’s retryAfterMs', () => {
    const limited = new ProviderError('429', { status: 429, transient: true, retryAfterMs: 1234 });
    const failed = new ProviderError('500', { status: 500, transient: true });

    expect(retryDelayMs(limited, 1, DEFAULT_RETRY_POLICY, HIGH)).toBe(1234);
    expect(retryDelayMs(failed, 2, DEFAULT_RETRY_POLICY, HIGH)).toBe(1000);
  });
});

describe('shouldRetry', () => {
  const transient = new ProviderError('overloaded', { status: 503, transient: true });
  const hard = new ProviderError('bad request', { status: 400 });

  it('retries transient errors until maxAttempts attempts were made', () => {
    expect(shouldRetry(transient, 1)).toBe(true);
    expect(shouldRetry(transient, 4)).toBe(true);
    expect(shouldRetry(transient, 5)).toBe(false);
  });

  it('never retries a non-transient error', () => {
    expect(shouldRetry(hard, 1)).toBe(false);
  });
});
