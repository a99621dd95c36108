/**
 * The state of every destination at a glance, for metrics, scraping and alert rules:
 * unsettled work by state, the age of the oldest, and the circuit. `held` is pending work
 * (queued or retrying) that cannot be released now: the destination is disabled or its
 * circuit is open, or, under strict ordering, it waits behind an earlier delivery. The
 * `queued` and `retrying` counts are what is free to go; the four states do not overlap.
 */
import type { DestinationType } from '../../schemas/destination'
import type { Settings } from '../../schemas/settings'
import type { DestinationDirectory } from './directory'
import type { HealthStore } from './health'
import type { Outbox } from './outbox'

export interface DestinationBacklog {
  queued: number
  held: number
  retrying: number
  delivering: number
  /** Age of the oldest unsettled item (from acceptance), or null when nothing is unsettled. */
  oldestAgeMs: number | null
}

export interface DestinationOverview {
  destinationId: string
  /** Null for a destination deleted while work for it was still unsettled. */
  label: string | null
  type: DestinationType | null
  disabled: boolean
  circuit: 'closed' | 'open' | 'half_open'
  consecutiveFailures: number
  backlog: DestinationBacklog
}

interface Count extends Record<string, SqlStorageValue> {
  destination_id: string
  status: string
  n: number
  oldest: number
}

/** One entry per destination of the organization, and per unknown one that still has work. */
export function destinationOverview(
  sql: SqlStorage,
  parts: { directory: DestinationDirectory; health: HealthStore; outbox: Outbox },
  policy: Settings['health'],
  now: number,
): DestinationOverview[] {
  const counts = sql
    .exec<Count>(
      `SELECT t.destination_id AS destination_id, t.status AS status, count(*) AS n, min(d.accepted_ms) AS oldest
       FROM targets t JOIN deliveries d ON d.id = t.delivery_id
       WHERE t.status IN ('queued', 'retrying', 'delivering') GROUP BY t.destination_id, t.status`,
    )
    .toArray()
  const byDestination = Map.groupBy(counts, (row) => row.destination_id)
  const ids = new Set([...parts.directory.all().map((d) => d.id), ...byDestination.keys()])
  return [...ids].sort().map((destinationId) => {
    const rows = byDestination.get(destinationId) ?? []
    const count = (status: string) => rows.find((row) => row.status === status)?.n ?? 0
    const destination = parts.directory.get(destinationId)
    const health = parts.health.view(destinationId, policy)
    let queued = count('queued')
    let retrying = count('retrying')
    let held = 0
    if (destination && (destination.disabled || health.circuit !== 'closed')) {
      held = queued + retrying
      queued = 0
      retrying = 0
    } else if (destination?.delivery.ordering === 'strict' && queued + retrying > 0) {
      // Only the head of the line may go; everything behind it waits.
      const head = parts.outbox.headOfLine(destinationId, destination)
      const headPending = head?.status === 'queued' || head?.status === 'retrying'
      held = queued + retrying - (headPending ? 1 : 0)
      queued = headPending && head?.status === 'queued' ? 1 : 0
      retrying = headPending && head?.status === 'retrying' ? 1 : 0
    }
    const oldest = rows.length > 0 ? Math.min(...rows.map((row) => row.oldest)) : null
    return {
      destinationId,
      label: destination?.label ?? null,
      type: destination?.type ?? null,
      disabled: destination?.disabled ?? false,
      circuit: health.circuit,
      consecutiveFailures: health.consecutiveFailures,
      backlog: {
        queued,
        held,
        retrying,
        delivering: count('delivering'),
        oldestAgeMs: oldest === null ? null : now - oldest,
      },
    }
  })
}
