/**
 * Reads `metric_rollups` for one organization: sums per destination and per time slot over
 * a range of whole minutes. Both queries go in one D1 batch and use the table's
 * (organization_id, minute) index; grouping happens in SQL, so the rows returned are one
 * per destination and one per slot, never one per minute and destination.
 */
import { LATENCY_COLUMNS } from './histogram'
import { emptyCounts, type RollupCounts, UNKNOWN_TYPE } from './rollup'

export interface RollupRange {
  organizationId: string
  /** First minute included (minutes since the epoch). */
  fromMinute: number
  /** First minute no longer included. */
  toMinute: number
  destinationId?: string
  destinationType?: string
}

export interface DestinationSums extends RollupCounts {
  destinationId: string
  destinationType: string
}

export interface SlotSums extends RollupCounts {
  /** First minute of the slot. */
  slot: number
}

const SUMS = [
  'sum(accepted) AS accepted',
  'sum(delivered) AS delivered',
  'sum(failed) AS failed',
  'sum(retried) AS retried',
  'sum(attempts) AS attempts',
  'sum(latency_sum_ms) AS latency_sum_ms',
  ...LATENCY_COLUMNS.map((column, i) => `sum(${column}) AS b${i}`),
].join(', ')

type SumRow = Record<string, number | string | null>

function counts(row: SumRow): RollupCounts {
  const n = (key: string) => Number(row[key] ?? 0)
  return {
    ...emptyCounts(),
    accepted: n('accepted'),
    delivered: n('delivered'),
    failed: n('failed'),
    retried: n('retried'),
    attempts: n('attempts'),
    latencySumMs: n('latency_sum_ms'),
    buckets: LATENCY_COLUMNS.map((_, i) => n(`b${i}`)),
  }
}

function where(range: RollupRange): { clause: string; values: (string | number)[] } {
  const conditions = ['organization_id = ?', 'minute >= ?', 'minute < ?']
  const values: (string | number)[] = [range.organizationId, range.fromMinute, range.toMinute]
  if (range.destinationId !== undefined) {
    conditions.push('destination_id = ?')
    values.push(range.destinationId)
  }
  if (range.destinationType !== undefined) {
    conditions.push('destination_type = ?')
    values.push(range.destinationType)
  }
  return { clause: conditions.join(' AND '), values }
}

/** Sums per destination over the range, and per slot of `slotMinutes` when asked. */
export async function readRollups(
  db: D1Database,
  range: RollupRange,
  slotMinutes: number | null,
): Promise<{ destinations: DestinationSums[]; slots: SlotSums[] }> {
  const { clause, values } = where(range)
  // A row written before the destination's type was known says `unknown`; any known type wins.
  const byDestination = db
    .prepare(
      `SELECT destination_id, max(CASE WHEN destination_type <> '${UNKNOWN_TYPE}' THEN destination_type END) AS destination_type, ${SUMS}
       FROM metric_rollups WHERE ${clause} GROUP BY destination_id ORDER BY destination_id`,
    )
    .bind(...values)
  const statements = [byDestination]
  if (slotMinutes !== null) {
    statements.push(
      db
        .prepare(
          // D1 binds numbers as REAL, so `minute / ?` would not truncate; `%` works on integers.
          `SELECT minute - minute % ? AS slot, ${SUMS} FROM metric_rollups WHERE ${clause} GROUP BY slot ORDER BY slot`,
        )
        .bind(slotMinutes, ...values),
    )
  }
  const [destinationRows, slotRows] = await db.batch<SumRow>(statements)
  return {
    destinations: (destinationRows?.results ?? []).map((row) => ({
      destinationId: String(row.destination_id),
      destinationType: row.destination_type === null ? UNKNOWN_TYPE : String(row.destination_type),
      ...counts(row),
    })),
    slots: (slotRows?.results ?? []).map((row) => ({ slot: Number(row.slot), ...counts(row) })),
  }
}
