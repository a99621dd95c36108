/**
 * Copies roll-up rows to Workers Analytics Engine when the `ANALYTICS` binding exists, for
 * dashboards over long ranges and many tenants. One data point per row, indexed by the
 * organization id (sampling then happens per tenant). Layout, for SQL API queries
 * (`SUM(_sample_interval * doubleN)`):
 *   blob1 destination id, blob2 destination type;
 *   double1 accepted, double2 delivered, double3 failed, double4 retried, double5 attempts,
 *   double6 latency sum (ms), double7..double16 latency buckets (≤50 … ≤30000, +Inf ms).
 * Analytics Engine samples and keeps 3 months: D1 stays the exact record.
 */
import type { RollupRow } from './rollup'

/** Data points a Worker invocation may write (Analytics Engine limits). */
export const MAX_POINTS_PER_INVOCATION = 250

/** Writes the rows (at most the per-invocation limit); returns how many were written. */
export function writeAnalyticsPoints(
  dataset: AnalyticsEngineDataset | undefined,
  rows: readonly RollupRow[],
): number {
  if (!dataset) return 0
  const points = rows.slice(0, MAX_POINTS_PER_INVOCATION)
  for (const row of points) {
    dataset.writeDataPoint({
      indexes: [row.organizationId],
      blobs: [row.destinationId, row.destinationType],
      doubles: [
        row.accepted,
        row.delivered,
        row.failed,
        row.retried,
        row.attempts,
        row.latencySumMs,
        ...row.buckets,
      ],
    })
  }
  return points.length
}
