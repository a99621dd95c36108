/**
 * Health of each destination, kept beside its outbox: consecutive failures, a success
 * rate over the last outcomes, and a circuit breaker. An open circuit holds deliveries
 * in the outbox (not released, not counted as attempts); after the cool-down one probe
 * goes out, and its success closes the circuit.
 */
import type { Settings } from '../../schemas/settings'

export type CircuitState = 'closed' | 'open' | 'half_open'

export interface DestinationHealth {
  destinationId: string
  consecutiveFailures: number
  circuit: CircuitState
  openedAt: string | null
  /** When the next probe may go out while the circuit is open. */
  probeAt: string | null
  firstFailureAt: string | null
  lastFailureAt: string | null
  lastSuccessAt: string | null
  /** Share of delivered among the last `windowSize` attempts; null before any attempt. */
  successRate: number | null
  windowSize: number
}

interface Row extends Record<string, SqlStorageValue> {
  destination_id: string
  consecutive_failures: number
  circuit: string
  opened_ms: number | null
  first_failure_ms: number | null
  last_failure_ms: number | null
  last_success_ms: number | null
  recent: string
}

/** Outcomes remembered per destination for the success rate. */
const WINDOW = 100

export class HealthStore {
  /** Rows read or changed during `batched`, written back once at its end. */
  private pending: Map<string, Row> | null = null

  constructor(private readonly sql: SqlStorage) {}

  /**
   * Runs `work` with each destination's row read once and written once, however many
   * results it records: a report batch holds up to a hundred attempts of a few
   * destinations. The caller runs it inside a transaction, so a throw writes nothing.
   */
  batched<T>(work: () => T): T {
    this.pending = new Map()
    try {
      const result = work()
      for (const row of this.pending.values()) this.write(row)
      return result
    } finally {
      this.pending = null
    }
  }

  private row(destinationId: string): Row {
    const pending = this.pending?.get(destinationId)
    if (pending) return pending
    return (
      this.sql
        .exec<Row>('SELECT * FROM destination_health WHERE destination_id = ?', destinationId)
        .toArray()[0] ?? {
        destination_id: destinationId,
        consecutive_failures: 0,
        circuit: 'closed',
        opened_ms: null,
        first_failure_ms: null,
        last_failure_ms: null,
        last_success_ms: null,
        recent: '',
      }
    )
  }

  private save(row: Row): void {
    if (this.pending) this.pending.set(row.destination_id, row)
    else this.write(row)
  }

  private write(row: Row): void {
    this.sql.exec(
      `INSERT INTO destination_health (destination_id, consecutive_failures, circuit, opened_ms, first_failure_ms, last_failure_ms, last_success_ms, recent)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (destination_id) DO UPDATE SET consecutive_failures = excluded.consecutive_failures, circuit = excluded.circuit,
         opened_ms = excluded.opened_ms, first_failure_ms = excluded.first_failure_ms, last_failure_ms = excluded.last_failure_ms,
         last_success_ms = excluded.last_success_ms, recent = excluded.recent`,
      row.destination_id,
      row.consecutive_failures,
      row.circuit,
      row.opened_ms,
      row.first_failure_ms,
      row.last_failure_ms,
      row.last_success_ms,
      row.recent,
    )
  }

  recordSuccess(destinationId: string, now: number): { recovered: boolean } {
    const row = this.row(destinationId)
    const recovered = row.circuit !== 'closed'
    this.save({
      ...row,
      consecutive_failures: 0,
      circuit: 'closed',
      opened_ms: null,
      first_failure_ms: null,
      last_success_ms: now,
      recent: `${row.recent}1`.slice(-WINDOW),
    })
    return { recovered }
  }

  /** Counts a failure; says whether the circuit opened and whether the destination should be disabled. */
  recordFailure(
    destinationId: string,
    now: number,
    policy: Settings['health'],
  ): { opened: boolean; disable: boolean } {
    const row = this.row(destinationId)
    const failures = row.consecutive_failures + 1
    const firstFailure = row.first_failure_ms ?? now
    const opens =
      row.circuit === 'half_open' ||
      (row.circuit === 'closed' && failures >= policy.failureThreshold)
    this.save({
      ...row,
      consecutive_failures: failures,
      circuit: opens ? 'open' : row.circuit,
      opened_ms: opens ? now : row.opened_ms,
      first_failure_ms: firstFailure,
      last_failure_ms: now,
      recent: `${row.recent}0`.slice(-WINDOW),
    })
    const failingFor = now - firstFailure
    return {
      opened: opens && row.circuit === 'closed',
      disable:
        failingFor >= policy.disableAfterHours * 3_600_000 && failures >= policy.failureThreshold,
    }
  }

  /**
   * Whether work may be released to a destination now, and how much: everything while
   * closed, one probe once an open circuit's cool-down has passed, nothing otherwise.
   */
  admission(
    destinationId: string,
    now: number,
    policy: Settings['health'],
  ): { allowed: number; retryAtMs: number | null } {
    const row = this.row(destinationId)
    if (row.circuit === 'closed') return { allowed: Number.POSITIVE_INFINITY, retryAtMs: null }
    if (row.circuit === 'half_open') return { allowed: 0, retryAtMs: null }
    const probeAt = (row.opened_ms ?? now) + policy.cooldownMs
    return now >= probeAt ? { allowed: 1, retryAtMs: null } : { allowed: 0, retryAtMs: probeAt }
  }

  /** Marks the probe as sent: no more releases until its result arrives. */
  startProbe(destinationId: string): void {
    const row = this.row(destinationId)
    if (row.circuit === 'open') this.save({ ...row, circuit: 'half_open' })
  }

  /** Closes the circuit and forgets failures (a destination enabled again starts fresh). */
  reset(destinationId: string): void {
    this.pending?.delete(destinationId)
    this.sql.exec('DELETE FROM destination_health WHERE destination_id = ?', destinationId)
  }

  isOpen(destinationId: string): boolean {
    return this.row(destinationId).circuit !== 'closed'
  }

  view(destinationId: string, policy: Settings['health']): DestinationHealth {
    const row = this.row(destinationId)
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
    const delivered = [...row.recent].filter((c) => c === '1').length
    return {
      destinationId,
      consecutiveFailures: row.consecutive_failures,
      circuit: row.circuit as CircuitState,
      openedAt: iso(row.opened_ms),
      probeAt:
        row.circuit === 'open' && row.opened_ms !== null
          ? iso(row.opened_ms + policy.cooldownMs)
          : null,
      firstFailureAt: iso(row.first_failure_ms),
      lastFailureAt: iso(row.last_failure_ms),
      lastSuccessAt: iso(row.last_success_ms),
      successRate: row.recent.length === 0 ? null : delivered / row.recent.length,
      windowSize: row.recent.length,
    }
  }
}
