/**
 * Per-minute roll-ups of delivery metrics: events (an accepted pair, an attempt and the
 * verdict it led to) are summed per (organization, destination, minute) in memory, then
 * added to `metric_rollups` with upserts that increment the stored counts, so any number
 * of writers may add to the same row. Minutes are whole minutes since the Unix epoch (UTC).
 *
 * The unit is one delivery to one destination. `accepted` counts pairs at ingest;
 * `delivered` and `failed` count final outcomes (a failed pair retried by hand and then
 * delivered counts once as each, when each happened); `retried` counts attempts that left
 * the pair waiting for another one; `attempts` and the latency histogram count attempts.
 */
import { sql } from 'drizzle-orm'
import { database } from '../../db/client'
import { metricRollups } from '../../db/schema'
import type { AttemptVerdict } from '../../durable-objects/organization/outbox'
import { addBuckets, type BucketCounts, bucketIndex, emptyBuckets } from './histogram'

/** Something that happened to one (delivery, destination) pair, at `atMs`. */
export type MetricEvent =
  | {
      kind: 'accepted'
      organizationId: string
      destinationId: string
      destinationType: string
      atMs: number
    }
  | {
      kind: 'attempt'
      organizationId: string
      destinationId: string
      destinationType: string
      atMs: number
      /** Null for an attempt with no measured duration (a dead-lettered message). */
      durationMs: number | null
      verdict: AttemptVerdict
    }

export interface RollupCounts {
  accepted: number
  delivered: number
  failed: number
  retried: number
  attempts: number
  latencySumMs: number
  buckets: BucketCounts
}

export interface RollupRow extends RollupCounts {
  organizationId: string
  destinationId: string
  destinationType: string
  minute: number
}

/** A destination whose type the writer could not learn (it was deleted before the attempt). */
export const UNKNOWN_TYPE = 'unknown'

export function emptyCounts(): RollupCounts {
  return {
    accepted: 0,
    delivered: 0,
    failed: 0,
    retried: 0,
    attempts: 0,
    latencySumMs: 0,
    buckets: emptyBuckets(),
  }
}

/** Adds `other` into `into`. */
export function addCounts(into: RollupCounts, other: RollupCounts): void {
  into.accepted += other.accepted
  into.delivered += other.delivered
  into.failed += other.failed
  into.retried += other.retried
  into.attempts += other.attempts
  into.latencySumMs += other.latencySumMs
  addBuckets(into.buckets, other.buckets)
}

export function minuteOf(ms: number): number {
  return Math.floor(ms / 60_000)
}

/** Sums events into one row per (organization, destination, minute). */
export function rollUp(events: readonly MetricEvent[]): RollupRow[] {
  const rows = new Map<string, RollupRow>()
  for (const event of events) {
    const minute = minuteOf(event.atMs)
    const key = `${event.organizationId}\n${event.destinationId}\n${minute}`
    let row = rows.get(key)
    if (!row) {
      row = {
        organizationId: event.organizationId,
        destinationId: event.destinationId,
        destinationType: event.destinationType,
        minute,
        ...emptyCounts(),
      }
      rows.set(key, row)
    }
    if (row.destinationType === UNKNOWN_TYPE) row.destinationType = event.destinationType
    if (event.kind === 'accepted') {
      row.accepted += 1
      continue
    }
    row.attempts += 1
    if (event.verdict === 'delivered') row.delivered += 1
    else if (event.verdict === 'failed') row.failed += 1
    else if (event.verdict === 'retrying') row.retried += 1
    if (event.durationMs !== null) {
      const duration = Math.max(0, Math.round(event.durationMs))
      row.latencySumMs += duration
      row.buckets[bucketIndex(duration)] = (row.buckets[bucketIndex(duration)] ?? 0) + 1
    }
  }
  return [...rows.values()]
}

/** Columns bound per row; D1 allows 100 bound parameters per statement. */
const PARAMS_PER_ROW = 20
const ROWS_PER_STATEMENT = Math.floor(100 / PARAMS_PER_ROW)

const add = (column: string) => sql.raw(`${column} + excluded.${column}`)

/**
 * Adds rows to `metric_rollups` in one round trip: one D1 batch (a single transaction) of
 * multi-row upserts, each within the bound-parameter limit.
 */
export async function writeRollups(db: D1Database, rows: readonly RollupRow[]): Promise<void> {
  if (rows.length === 0) return
  const orm = database(db)
  const statements = []
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const values = rows.slice(i, i + ROWS_PER_STATEMENT).map((row) => {
      const [le50, le100, le250, le500, le1000, le2500, le5000, le10000, le30000, leInf] =
        row.buckets
      return {
        organizationId: row.organizationId,
        destinationId: row.destinationId,
        destinationType: row.destinationType,
        minute: row.minute,
        accepted: row.accepted,
        delivered: row.delivered,
        failed: row.failed,
        retried: row.retried,
        attempts: row.attempts,
        latencySumMs: row.latencySumMs,
        latencyLe50: le50 ?? 0,
        latencyLe100: le100 ?? 0,
        latencyLe250: le250 ?? 0,
        latencyLe500: le500 ?? 0,
        latencyLe1000: le1000 ?? 0,
        latencyLe2500: le2500 ?? 0,
        latencyLe5000: le5000 ?? 0,
        latencyLe10000: le10000 ?? 0,
        latencyLe30000: le30000 ?? 0,
        latencyLeInf: leInf ?? 0,
      }
    })
    statements.push(
      orm
        .insert(metricRollups)
        .values(values)
        .onConflictDoUpdate({
          target: [metricRollups.organizationId, metricRollups.destinationId, metricRollups.minute],
          set: {
            // A writer that could not learn the type never overwrites a known one.
            destinationType: sql.raw(
              `CASE WHEN excluded.destination_type = '${UNKNOWN_TYPE}' THEN metric_rollups.destination_type ELSE excluded.destination_type END`,
            ),
            accepted: add('accepted'),
            delivered: add('delivered'),
            failed: add('failed'),
            retried: add('retried'),
            attempts: add('attempts'),
            latencySumMs: add('latency_sum_ms'),
            latencyLe50: add('latency_le_50'),
            latencyLe100: add('latency_le_100'),
            latencyLe250: add('latency_le_250'),
            latencyLe500: add('latency_le_500'),
            latencyLe1000: add('latency_le_1000'),
            latencyLe2500: add('latency_le_2500'),
            latencyLe5000: add('latency_le_5000'),
            latencyLe10000: add('latency_le_10000'),
            latencyLe30000: add('latency_le_30000'),
            latencyLeInf: add('latency_le_inf'),
          },
        }),
    )
  }
  const [first, ...rest] = statements
  if (first) await orm.batch([first, ...rest])
}
