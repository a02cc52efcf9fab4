import type { ProviderError } from './errors.js';

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  /** Delay scale after the first failed attempt. */
  baseDelayMs: number;
  /** No delay exceeds this, not even one the provider asked for. */
  maxDelayMs: number;
  /** Growth of the delay per further failed attempt. */
  factor: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
};

const HALF = 0.5;

/**
 * Delay before the attempt after `attempt` (1-based: the attempt that just failed).
 *
 * Exponential backoff with equal jitter: the ceiling is `baseDelayMs × factor^(attempt-1)`, capped
 * at `maxDelayMs`, and the delay is half the ceiling plus a random part of the other half. Equal
 * rather than full jitter so a rate-limited provider always gets at least half the backoff, while
 * replicas that failed together still spread out.
 *
 * `retryAfterMs` (what the provider asked for) replaces the computed delay, still capped at
 * `maxDelayMs` so a huge Retry-After cannot park a chat for hours.
 */
export function backoffDelayMs(
  attempt: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
  retryAfterMs?: number,
): number {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs)) {
    return Math.round(Math.min(policy.maxDelayMs, Math.max(0, retryAfterMs)));
  }
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** exponent);
  const jitter = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling * HALF + ceiling * HALF * jitter);
}

/** Whether to try again after `attempt` (1-based) failed with `error`. */
export function shouldRetry(
  error: ProviderError,
  attempt: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): boolean {
  return error.transient && attempt < policy.maxAttempts;
}

/** backoffDelayMs for a failed attempt, honouring the error's Retry-After. */
export function retryDelayMs(
  error: ProviderError,
  attempt: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): number {
  return backoffDelayMs(attempt, policy, random, error.retryAfterMs);
}
