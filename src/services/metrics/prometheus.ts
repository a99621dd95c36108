/**
 * The organization's metrics in the Prometheus text exposition format (version 0.0.4).
 * Counters are cumulative since the organization's first roll-up, so `rate()` and
 * `increase()` work as usual; the latency histogram has cumulative `le` buckets in
 * seconds with `_sum` and `_count`; backlog and circuit state are gauges read live from
 * the organization's object. Every series carries `organization`, `destination` and
 * `destination_type` labels.
 */
import type { DestinationOverview } from '../../durable-objects/organization/backlog'
import { LATENCY_EDGES_MS } from './histogram'
import type { DestinationSums } from './query'
import { emptyCounts, UNKNOWN_TYPE } from './rollup'

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Escapes a label value as the exposition format requires. */
function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')
}

function labels(values: Record<string, string>): string {
  const pairs = Object.entries(values).map(([name, value]) => `${name}="${escapeLabel(value)}"`)
  return `{${pairs.join(',')}}`
}

class Exposition {
  private readonly lines: string[] = []

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
  }

  sample(name: string, labelValues: Record<string, string>, value: number): void {
    this.lines.push(`${name}${labels(labelValues)} ${value}`)
  }

  text(): string {
    return `${this.lines.join('\n')}\n`
  }
}

/** Renders the exposition for one organization from all-time sums and the live overview. */
export function renderPrometheus(
  organizationId: string,
  sums: readonly DestinationSums[],
  overview: readonly DestinationOverview[],
): string {
  const known = new Map(sums.map((row) => [row.destinationId, row]))
  // Destinations without any roll-up yet still get zero counters, so series start at 0.
  for (const destination of overview) {
    if (!known.has(destination.destinationId) && destination.type !== null)
      known.set(destination.destinationId, {
        destinationId: destination.destinationId,
        destinationType: destination.type,
        ...emptyCounts(),
      })
  }
  const rows = [...known.values()].sort((a, b) => a.destinationId.localeCompare(b.destinationId))
  const base = (row: { destinationId: string; destinationType: string | null }) => ({
    organization: organizationId,
    destination: row.destinationId,
    destination_type: row.destinationType ?? UNKNOWN_TYPE,
  })
  const out = new Exposition()

  out.family(
    'audit_deliveries_accepted_total',
    'counter',
    '(Delivery, destination) pairs accepted for delivery.',
  )
  for (const row of rows) out.sample('audit_deliveries_accepted_total', base(row), row.accepted)

  out.family(
    'audit_deliveries_completed_total',
    'counter',
    '(Delivery, destination) pairs that reached a final outcome: delivered, or failed for good.',
  )
  for (const row of rows) {
    out.sample(
      'audit_deliveries_completed_total',
      { ...base(row), outcome: 'delivered' },
      row.delivered,
    )
    out.sample('audit_deliveries_completed_total', { ...base(row), outcome: 'failed' }, row.failed)
  }

  out.family(
    'audit_delivery_attempts_total',
    'counter',
    'Delivery attempts by what they led to: delivered, retried (another attempt follows), failed (for good), other (the report was superseded or the destination deleted).',
  )
  for (const row of rows) {
    const other = Math.max(0, row.attempts - row.delivered - row.failed - row.retried)
    const outcomes = { delivered: row.delivered, retried: row.retried, failed: row.failed, other }
    for (const [outcome, value] of Object.entries(outcomes))
      out.sample('audit_delivery_attempts_total', { ...base(row), outcome }, value)
  }

  out.family(
    'audit_delivery_latency_seconds',
    'histogram',
    'Duration of delivery attempts, from the handler starting to the destination answering.',
  )
  for (const row of rows) {
    let cumulative = 0
    row.buckets.forEach((count, i) => {
      cumulative += count
      const edge = LATENCY_EDGES_MS[i]
      const le = edge === undefined ? '+Inf' : String(edge / 1000)
      out.sample('audit_delivery_latency_seconds_bucket', { ...base(row), le }, cumulative)
    })
    out.sample('audit_delivery_latency_seconds_sum', base(row), row.latencySumMs / 1000)
    out.sample('audit_delivery_latency_seconds_count', base(row), cumulative)
  }

  const live = overview.map((d) => ({ ...d, destinationType: d.type }))
  out.family(
    'audit_delivery_backlog',
    'gauge',
    'Unsettled (delivery, destination) pairs by state: queued, held (disabled, circuit open or waiting in strict order), retrying, delivering.',
  )
  for (const d of live) {
    const { queued, held, retrying, delivering } = d.backlog
    for (const [state, value] of Object.entries({ queued, held, retrying, delivering }))
      out.sample('audit_delivery_backlog', { ...base(d), state }, value)
  }
  out.family(
    'audit_delivery_backlog_oldest_age_seconds',
    'gauge',
    'Age of the oldest unsettled (delivery, destination) pair; 0 when nothing is unsettled.',
  )
  for (const d of live)
    out.sample(
      'audit_delivery_backlog_oldest_age_seconds',
      base(d),
      (d.backlog.oldestAgeMs ?? 0) / 1000,
    )
  out.family(
    'audit_destination_consecutive_failures',
    'gauge',
    'Failed attempts in a row at the destination.',
  )
  for (const d of live)
    out.sample('audit_destination_consecutive_failures', base(d), d.consecutiveFailures)
  out.family(
    'audit_destination_circuit_open',
    'gauge',
    '1 while the circuit breaker holds deliveries to the destination (open or probing), else 0.',
  )
  for (const d of live)
    out.sample('audit_destination_circuit_open', base(d), d.circuit === 'closed' ? 0 : 1)
  return out.text()
}
