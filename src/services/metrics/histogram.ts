/**
 * The latency histogram of delivery attempts. Edges are fixed (milliseconds, upper bounds,
 * inclusive) and match the `latency_le_*` columns of `metric_rollups`: an attempt of
 * `d` ms counts in the first bucket whose edge is at least `d`, or in the open top bucket.
 *
 * Percentiles are estimated from the buckets as Prometheus' `histogram_quantile` does, so
 * the API and a scraper agree: the rank is `q × count`; in the bucket where the running
 * count reaches that rank, the value is interpolated linearly between the bucket's lower
 * and upper edge (the first bucket starts at 0). A rank that falls in the open top bucket
 * is reported as the last finite edge (30,000 ms), a lower bound. The mean is exact:
 * the sum of durations over the count.
 */

/** Upper edges of the finite buckets, in ms. */
export const LATENCY_EDGES_MS = [50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000] as const

/** One count per bucket: the finite edges in order, then the open top bucket. */
export type BucketCounts = number[]

/** SQL column of each bucket, in the order of `BucketCounts`. */
export const LATENCY_COLUMNS = [
  ...LATENCY_EDGES_MS.map((edge) => `latency_le_${edge}`),
  'latency_le_inf',
] as const

export function emptyBuckets(): BucketCounts {
  return LATENCY_COLUMNS.map(() => 0)
}

/** Index of the bucket a duration falls in. */
export function bucketIndex(durationMs: number): number {
  const index = LATENCY_EDGES_MS.findIndex((edge) => durationMs <= edge)
  return index === -1 ? LATENCY_EDGES_MS.length : index
}

/** Adds `other` into `into`, bucket by bucket. */
export function addBuckets(into: BucketCounts, other: readonly number[]): void {
  for (let i = 0; i < into.length; i++) into[i] = (into[i] ?? 0) + (other[i] ?? 0)
}

/** The estimated `q` quantile (0 < q ≤ 1) in ms, or null when there are no observations. */
export function quantile(buckets: readonly number[], q: number): number | null {
  const count = buckets.reduce((sum, n) => sum + n, 0)
  if (count === 0) return null
  const rank = q * count
  let below = 0
  for (let i = 0; i < LATENCY_EDGES_MS.length; i++) {
    const inBucket = buckets[i] ?? 0
    if (inBucket > 0 && below + inBucket >= rank) {
      const lower = i === 0 ? 0 : (LATENCY_EDGES_MS[i - 1] as number)
      const upper = LATENCY_EDGES_MS[i] as number
      return lower + ((upper - lower) * (rank - below)) / inBucket
    }
    below += inBucket
  }
  return LATENCY_EDGES_MS[LATENCY_EDGES_MS.length - 1] as number
}

export interface LatencySummary {
  /** Attempts observed (the histogram's count). */
  count: number
  p50: number | null
  p95: number | null
  p99: number | null
  mean: number | null
  /** Attempts per bucket: `le` is the bucket's upper edge in ms, null for the open top bucket. */
  buckets: { le: number | null; count: number }[]
}

/** Percentiles, mean and buckets of a histogram; values in ms rounded to 0.1. */
export function summarizeLatency(buckets: readonly number[], sumMs: number): LatencySummary {
  const count = buckets.reduce((sum, n) => sum + n, 0)
  const round = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10)
  return {
    count,
    p50: round(quantile(buckets, 0.5)),
    p95: round(quantile(buckets, 0.95)),
    p99: round(quantile(buckets, 0.99)),
    mean: count === 0 ? null : round(sumMs / count),
    buckets: LATENCY_COLUMNS.map((_, i) => ({
      le: i < LATENCY_EDGES_MS.length ? (LATENCY_EDGES_MS[i] as number) : null,
      count: buckets[i] ?? 0,
    })),
  }
}
