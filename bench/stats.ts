/** Plain statistics for the bench: medians of repetitions and percentiles of samples. */

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Every repetition's value, in run order. */
  values: number[];
}

/** Linear interpolation between closest ranks; NaN for no samples. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export const median = (samples: number[]) => percentile(samples, 50);

export function spread(values: number[]): Spread {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, values };
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite), values };
}
