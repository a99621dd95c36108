/**
 * Shapes summed roll-ups into the metrics answer: totals, success rate, latency, by type,
 * by destination and as a zero-filled time series. Pure functions over the sums.
 */
import type { DestinationOverview } from '../../durable-objects/organization/backlog'
import { type LatencySummary, summarizeLatency } from './histogram'
import type { DestinationSums, SlotSums } from './query'
import { addCounts, emptyCounts, type RollupCounts } from './rollup'

export const GRANULARITY_MINUTES = { minute: 1, hour: 60, day: 1440 } as const
export type Granularity = keyof typeof GRANULARITY_MINUTES

export interface Totals {
  accepted: number
  delivered: number
  failed: number
  retried: number
  attempts: number
}

export interface Figures {
  totals: Totals
  /** delivered / (delivered + failed): final outcomes only; null when there were none. */
  successRate: number | null
  latency: LatencySummary
}

export function figures(sums: RollupCounts): Figures {
  const { accepted, delivered, failed, retried, attempts } = sums
  const settled = delivered + failed
  return {
    totals: { accepted, delivered, failed, retried, attempts },
    successRate: settled === 0 ? null : delivered / settled,
    latency: summarizeLatency(sums.buckets, sums.latencySumMs),
  }
}

function sumAll(rows: readonly RollupCounts[]): RollupCounts {
  const total = emptyCounts()
  for (const row of rows) addCounts(total, row)
  return total
}

export interface MetricsReport extends Figures {
  byType: (Figures & { destinationType: string })[]
  byDestination: (Figures & {
    destinationId: string
    destinationType: string
    label: string | null
  })[]
  timeSeries: (Omit<Figures, 'latency'> & {
    start: string
    latency: Omit<LatencySummary, 'buckets'>
  })[]
  backlog: (DestinationOverview['backlog'] & {
    destinationId: string
    destinationType: DestinationOverview['type']
    label: string | null
  })[]
}

/** Builds the answer; `slots` lists every slot start (minutes) of the range, in order. */
export function buildReport(input: {
  destinations: readonly DestinationSums[]
  slots: readonly SlotSums[]
  slotStarts: readonly number[]
  overview: readonly DestinationOverview[]
}): MetricsReport {
  const labels = new Map(input.overview.map((d) => [d.destinationId, d.label]))
  const byType = Map.groupBy(input.destinations, (row) => row.destinationType)
  const bySlot = new Map(input.slots.map((row) => [row.slot, row]))
  return {
    ...figures(sumAll(input.destinations)),
    byType: [...byType.keys()].sort().map((destinationType) => ({
      destinationType,
      ...figures(sumAll(byType.get(destinationType) ?? [])),
    })),
    byDestination: input.destinations.map((row) => ({
      destinationId: row.destinationId,
      destinationType: row.destinationType,
      label: labels.get(row.destinationId) ?? null,
      ...figures(row),
    })),
    timeSeries: input.slotStarts.map((slot) => {
      const { latency, ...rest } = figures(bySlot.get(slot) ?? emptyCounts())
      const { buckets: _buckets, ...point } = latency
      return { start: new Date(slot * 60_000).toISOString(), ...rest, latency: point }
    }),
    backlog: input.overview.map((d) => ({
      destinationId: d.destinationId,
      destinationType: d.type,
      label: d.label,
      ...d.backlog,
    })),
  }
}
