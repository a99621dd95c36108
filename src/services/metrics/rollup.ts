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
import type { AttemptVerdict } from '../../durable-objects/organization/outbox'
import {
  addBuckets,
  type BucketCounts,
  bucketIndex,
  emptyBuckets,
  LATENCY_COLUMNS,
} from './histogram'

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

/** Sums events into rows, one per (organization, destination, minute), as they come. */
export class RollupAccumulator {
  private rows = new Map<string, RollupRow>()

  get size(): number {
    return this.rows.size
  }

  add(events: readonly MetricEvent[]): void {
    for (const event of events) this.addOne(event)
  }

  /** The rows summed so far; the accumulator starts empty again. */
  take(): RollupRow[] {
    const rows = [...this.rows.values()]
    this.rows = new Map()
    return rows
  }

  private addOne(event: MetricEvent): void {
    const minute = minuteOf(event.atMs)
    const key = `${event.organizationId}\n${event.destinationId}\n${minute}`
    let row = this.rows.get(key)
    if (!row) {
      row = {
        organizationId: event.organizationId,
        destinationId: event.destinationId,
        destinationType: event.destinationType,
        minute,
        ...emptyCounts(),
      }
      this.rows.set(key, row)
    }
    if (row.destinationType === UNKNOWN_TYPE) row.destinationType = event.destinationType
    if (event.kind === 'accepted') {
      row.accepted += 1
      return
    }
    row.attempts += 1
    if (event.verdict === 'delivered') row.delivered += 1
    else if (event.verdict === 'failed') row.failed += 1
    else if (event.verdict === 'retrying') row.retried += 1
    if (event.durationMs !== null) {
      const duration = Math.max(0, Math.round(event.durationMs))
      const bucket = bucketIndex(duration)
      row.latencySumMs += duration
      row.buckets[bucket] = (row.buckets[bucket] ?? 0) + 1
    }
  }
}

/** Sums events into one row per (organization, destination, minute). */
export function rollUp(events: readonly MetricEvent[]): RollupRow[] {
  const accumulator = new RollupAccumulator()
  accumulator.add(events)
  return accumulator.take()
}

const COUNT_COLUMNS = [
  'accepted',
  'delivered',
  'failed',
  'retried',
  'attempts',
  'latency_sum_ms',
  ...LATENCY_COLUMNS,
]
const COLUMNS = [
  'organization_id',
  'destination_id',
  'destination_type',
  'minute',
  ...COUNT_COLUMNS,
]
/** D1 allows 100 bound parameters per statement: five rows of twenty. */
const ROWS_PER_STATEMENT = Math.floor(100 / COLUMNS.length)

/** The upsert for `rows` rows, built once per row count (the hot path writes one row). */
const upsertText = new Map<number, string>()
function upsertFor(rows: number): string {
  let text = upsertText.get(rows)
  if (!text) {
    const tuple = `(${COLUMNS.map(() => '?').join(', ')})`
    text =
      `INSERT INTO metric_rollups (${COLUMNS.join(', ')}) VALUES ${Array(rows).fill(tuple).join(', ')}
       ON CONFLICT (organization_id, destination_id, minute) DO UPDATE SET ` +
      // A writer that could not learn the type never overwrites a known one.
      `destination_type = CASE WHEN excluded.destination_type = '${UNKNOWN_TYPE}' THEN metric_rollups.destination_type ELSE excluded.destination_type END, ` +
      COUNT_COLUMNS.map((column) => `${column} = ${column} + excluded.${column}`).join(', ')
    upsertText.set(rows, text)
  }
  return text
}

function bindings(row: RollupRow): (string | number)[] {
  return [
    row.organizationId,
    row.destinationId,
    row.destinationType,
    row.minute,
    row.accepted,
    row.delivered,
    row.failed,
    row.retried,
    row.attempts,
    row.latencySumMs,
    ...LATENCY_COLUMNS.map((_, i) => row.buckets[i] ?? 0),
  ]
}

/**
 * Adds rows to `metric_rollups` in one round trip: one D1 batch (a single transaction) of
 * multi-row upserts that increment the stored counts, each within the bound-parameter limit.
 */
export async function writeRollups(db: D1Database, rows: readonly RollupRow[]): Promise<void> {
  if (rows.length === 0) return
  const statements: D1PreparedStatement[] = []
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT)
    statements.push(db.prepare(upsertFor(chunk.length)).bind(...chunk.flatMap(bindings)))
  }
  await db.batch(statements)
}
