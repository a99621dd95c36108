/**
 * Where metrics enter: the ingest routes report accepted pairs, the queue consumer reports
 * attempts with the verdict the organization's object gave each. Every call is one D1 batch
 * (never one write per attempt) plus Analytics Engine points when bound. Recording never
 * throws: the deliveries themselves are already safe, so a failed metrics write is logged
 * with what it lost instead of failing (and repeating) the work it describes.
 */
import type { ServiceEnv } from '../../env'
import { log } from '../../lib/logger'
import type { AcceptedDelivery } from '../../schemas/delivery'
import { MAX_POINTS_PER_INVOCATION, writeAnalyticsPoints } from './analytics-engine'
import { type MetricEvent, type RollupRow, rollUp, writeRollups } from './rollup'

export async function recordMetricEvents(
  env: Pick<ServiceEnv, 'DB' | 'ANALYTICS'>,
  events: readonly MetricEvent[],
): Promise<void> {
  await recordRollups(env, rollUp(events))
}

/** Writes rows already summed (see `RollupAccumulator`). */
export async function recordRollups(
  env: Pick<ServiceEnv, 'DB' | 'ANALYTICS'>,
  rows: readonly RollupRow[],
): Promise<void> {
  if (rows.length === 0) return
  try {
    await writeRollups(env.DB, rows)
  } catch (error) {
    log.error({
      event: 'metrics_write_failed',
      error: (error as Error).message,
      rows: rows.length,
      accepted: rows.reduce((n, row) => n + row.accepted, 0),
      attempts: rows.reduce((n, row) => n + row.attempts, 0),
    })
  }
  try {
    const written = writeAnalyticsPoints(env.ANALYTICS, rows)
    if (env.ANALYTICS && written < rows.length)
      log.warn({
        event: 'analytics_points_dropped',
        dropped: rows.length - written,
        limit: MAX_POINTS_PER_INVOCATION,
      })
  } catch (error) {
    log.warn({ event: 'analytics_write_failed', error: (error as Error).message })
  }
}

/** Counts every (delivery, destination) pair of newly accepted deliveries (not replays). */
export function acceptedEvents(
  organizationId: string,
  accepted: readonly AcceptedDelivery[],
): MetricEvent[] {
  return accepted.flatMap((delivery) =>
    delivery.destinations.map((destination) => ({
      kind: 'accepted' as const,
      organizationId,
      destinationId: destination.destinationId,
      destinationType: destination.type,
      atMs: Date.parse(delivery.acceptedAt),
    })),
  )
}
