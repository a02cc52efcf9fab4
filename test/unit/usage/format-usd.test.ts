import { describe, expect, it } from 'vitest';
import { formatUsd } from '../../../src/usage/service.js';

describe('formatUsd (USAGE_LIMIT_EXCEEDED message)', () => {
  it('shows amounts below a cent instead of rounding them to $0.00', () => {
    expect(formatUsd(5_000)).toBe('$0.005');
    expect(formatUsd(1_234)).toBe('$0.001234');
    expect(formatUsd(1)).toBe('$0.000001');
  });

  it('keeps cents for round amounts', () => {
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(1_500_000)).toBe('$1.50');
    expect(formatUsd(12_000_000)).toBe('$12.00');
    expect(formatUsd(12_345_678)).toBe('$12.345678');
  });
});
