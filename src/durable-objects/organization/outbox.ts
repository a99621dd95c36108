/**
 * The per-destination outbox: which (delivery, destination) pairs go to the queue now,
 * and what an attempt's result does to them. Releasing is bounded per destination
 * (in-flight window, rate, open circuit, strict order), so one destination's backlog
 * holds at most its window in the queue and cannot crowd out other work.
 */

import type { AttemptMessage } from '../../delivery/messages'
import { hasAttemptsLeft, retryDelayMs } from '../../delivery/retry-policy'
import type { Outcome } from '../../handlers/types'
import { newId, randomToken } from '../../lib/ids'
import type { Settings } from '../../schemas/settings'
import type { TargetRow } from './deliveries'
import type { DestinationDirectory, DestinationSummary } from './directory'
import type { HealthStore } from './health'
import type { TokenBucket } from './rate-limiter'

/**
 * A release not reported back within this time is released again (the message was lost).
 * A consumer invocation runs at most 15 minutes (Queues limits), so a live attempt has
 * reported by then; a late duplicate carries the same webhook-id.
 */
export const LEASE_MS = 15 * 60 * 1000

/** What one attempt reported, as the queue consumer sends it back. */
export interface AttemptReport {
  deliveryId: string
  destinationId: string
  lease: string
  attempt: number
  startedAt: string
  durationMs: number
  outcome: Outcome
}

/**
 * What a report did to its (delivery, destination) pair: its resulting state, or `ignored`
 * when the report belonged to an older release and moved nothing (the attempt is still
 * recorded). Metrics count final outcomes from these.
 */
export type AttemptVerdict = 'delivered' | 'failed' | 'retrying' | 'skipped' | 'ignored'

/** Consequences of results that other parts (alerts, D1) act on. */
export interface ResultEffects {
  disable: { destinationId: string; reason: string }[]
  recovered: string[]
  circuitOpened: string[]
  exhausted: { deliveryId: string; destinationId: string }[]
}

export interface Release {
  messages: { message: AttemptMessage; priority: number }[]
  /** When the outbox next has something to do on its own (a retry falls due, a probe, a lease expiry). */
  wakeAtMs: number | null
}

interface ReleaseContext {
  organizationId: string
  directory: DestinationDirectory
  settings: Settings
  rateBucket: (destination: DestinationSummary) => TokenBucket | null
}

const PENDING = "('queued', 'retrying')"

/** What a queue message carries of its delivery, read with the rows being released. */
interface DeliveryFields extends Record<string, SqlStorageValue> {
  accepted_at: string
  payload_type: string
  correlation_id: string | null
  tags: string
  request_id: string | null
  payload: string | null
  payload_ref: string | null
}
const DELIVERY_FIELDS =
  'd.accepted_at, d.payload_type, d.correlation_id, d.tags, d.request_id, d.payload, d.payload_ref'

type ReleasableRow = TargetRow & DeliveryFields

export class Outbox {
  constructor(
    private readonly sql: SqlStorage,
    private readonly health: HealthStore,
  ) {}

  /** Picks what may go to the queue now and marks it `delivering` under a fresh lease. */
  release(now: number, context: ReleaseContext): Release {
    const wake: number[] = []
    const messages: Release['messages'] = []
    const due = this.destinationsWithDueWork(now)
    const inFlight = new Map(
      this.sql
        .exec<{ destination_id: string; n: number }>(
          "SELECT destination_id, count(*) AS n FROM targets WHERE status = 'delivering' GROUP BY destination_id",
        )
        .toArray()
        .map((row) => [row.destination_id, row.n]),
    )
    for (const destinationId of due) {
      const destination = context.directory.get(destinationId)
      if (!destination) {
        this.skipDestination(destinationId, 'destination_deleted', now)
        continue
      }
      if (destination.disabled) continue
      const admission = this.health.admission(destinationId, now, context.settings.health)
      if (admission.retryAtMs !== null) wake.push(admission.retryAtMs)
      const window =
        destination.delivery.maxConcurrency ?? context.settings.limits.maxInFlightPerDestination
      const busy = inFlight.get(destinationId) ?? 0
      let capacity = Math.min(admission.allowed, window - busy)
      // A strict line sends one at a time, and while one is out its report releases the
      // next: nothing to wake for until then.
      if (destination.delivery.ordering === 'strict')
        capacity = busy > 0 ? 0 : Math.min(capacity, 1)
      const bucket = context.rateBucket(destination)
      if (bucket) {
        const tokens = bucket.available(now)
        if (tokens < capacity && capacity > 0) wake.push(now + Math.max(bucket.waitMs(now), 50))
        capacity = Math.min(capacity, tokens)
      }
      if (capacity <= 0) continue
      const rows =
        destination.delivery.ordering === 'strict'
          ? this.strictHead(destinationId, now, destination)
          : this.parallelBatch(destinationId, now, capacity)
      for (const row of rows) {
        if (bucket && !bucket.take(now)) break
        messages.push({
          message: this.lease(row, now, context.organizationId, destination),
          priority: row.priority,
        })
      }
      if (rows.length > 0 && admission.allowed === 1) this.health.startProbe(destinationId)
    }
    const nextDue = this.sql
      .exec<{ at: number | null }>(
        `SELECT min(next_attempt_ms) AS at FROM targets WHERE status IN ${PENDING} AND next_attempt_ms > ?`,
        now,
      )
      .one().at
    if (nextDue !== null) wake.push(nextDue)
    const oldestLease = this.sql
      .exec<{ at: number | null }>(
        "SELECT min(released_ms) AS at FROM targets WHERE status = 'delivering'",
      )
      .one().at
    if (oldestLease !== null) wake.push(oldestLease + LEASE_MS)
    // One delivery's messages to its destinations side by side: they reach the consumer in
    // the same batch, which opens the payload once for all of them.
    messages.sort((a, b) => b.priority - a.priority || a.message.sequence - b.message.sequence)
    return { messages, wakeAtMs: wake.length > 0 ? Math.min(...wake) : null }
  }

  /**
   * Destinations with pending work due now. Runs after every report, so it must not grow
   * with the backlog: a skip-scan lists each destination once from its index, then one
   * indexed probe per destination (a DISTINCT over pending rows read all of them).
   */
  private destinationsWithDueWork(now: number): string[] {
    return this.sql
      .exec<{ id: string }>(
        `WITH RECURSIVE known(id) AS (
           SELECT min(destination_id) FROM targets
           UNION ALL SELECT (SELECT min(destination_id) FROM targets WHERE destination_id > known.id) FROM known WHERE known.id IS NOT NULL
         )
         SELECT id FROM known WHERE id IS NOT NULL
           AND EXISTS (SELECT 1 FROM targets WHERE destination_id = known.id AND status IN ${PENDING} AND next_attempt_ms <= ?)`,
        now,
      )
      .toArray()
      .map((row) => row.id)
  }

  /**
   * The next `limit` due rows in priority and sequence order. One ordered walk of the
   * ready index per pending state, merged here: with both states in one query SQLite
   * sorts every pending row of the destination to return the first few. The `+` keeps
   * the due filter off the index so the walk follows the index order.
   */
  private parallelBatch(destinationId: string, now: number, limit: number): ReleasableRow[] {
    const walk = (status: 'queued' | 'retrying') =>
      this.sql
        .exec<ReleasableRow>(
          `SELECT t.*, ${DELIVERY_FIELDS} FROM targets t JOIN deliveries d ON d.id = t.delivery_id
           WHERE t.destination_id = ? AND t.status = ? AND +t.next_attempt_ms <= ? ORDER BY t.priority DESC, t.sequence LIMIT ?`,
          destinationId,
          status,
          now,
          limit,
        )
        .toArray()
    return [...walk('queued'), ...walk('retrying')]
      .sort((a, b) => b.priority - a.priority || a.sequence - b.sequence)
      .slice(0, limit)
  }

  /** Strict order: the earliest unsettled delivery, alone (the caller checks nothing is in flight). */
  private strictHead(
    destinationId: string,
    now: number,
    destination: DestinationSummary,
  ): ReleasableRow[] {
    const head = this.headOfLine(destinationId, destination)
    if (!head || (head.status !== 'queued' && head.status !== 'retrying')) return []
    if ((head.next_attempt_ms ?? 0) > now) return []
    const delivery = this.sql
      .exec<DeliveryFields>(
        `SELECT ${DELIVERY_FIELDS} FROM deliveries d WHERE d.id = ?`,
        head.delivery_id,
      )
      .one()
    return [{ ...head, ...delivery }]
  }

  /** The first delivery a strict destination has not finished with; a failed one holds the line under `wait`. */
  headOfLine(destinationId: string, destination: DestinationSummary): TargetRow | undefined {
    const settledFailed = destination.delivery.onExhausted === 'skip' ? ", 'failed'" : ''
    return this.sql
      .exec<TargetRow>(
        `SELECT * FROM targets WHERE destination_id = ? AND status NOT IN ('delivered', 'skipped'${settledFailed}) ORDER BY sequence LIMIT 1`,
        destinationId,
      )
      .toArray()[0]
  }

  private lease(
    row: ReleasableRow,
    now: number,
    organizationId: string,
    destination: DestinationSummary,
  ): AttemptMessage {
    const lease = randomToken(12)
    this.sql.exec(
      "UPDATE targets SET status = 'delivering', released_ms = ?, lease = ?, updated_ms = ? WHERE delivery_id = ? AND destination_id = ?",
      now,
      lease,
      now,
      row.delivery_id,
      row.destination_id,
    )
    return {
      kind: 'attempt',
      organizationId,
      deliveryId: row.delivery_id,
      destinationId: row.destination_id,
      destinationVersion: destination.updatedAt,
      lease,
      attempt: row.attempts + 1,
      sequence: row.sequence,
      acceptedAt: row.accepted_at,
      payloadType: row.payload_type,
      correlationId: row.correlation_id,
      tags: JSON.parse(row.tags) as string[],
      requestId: row.request_id,
      payload: row.payload,
      payloadRef: row.payload_ref,
    }
  }

  /** Puts back releases that could not be enqueued, to be sent again shortly. */
  unrelease(messages: readonly AttemptMessage[], retryAtMs: number): void {
    for (const message of messages) {
      this.sql.exec(
        `UPDATE targets SET status = CASE WHEN attempts = 0 THEN 'queued' ELSE 'retrying' END, next_attempt_ms = ?, lease = NULL, released_ms = NULL
         WHERE delivery_id = ? AND destination_id = ? AND lease = ? AND status = 'delivering'`,
        retryAtMs,
        message.deliveryId,
        message.destinationId,
        message.lease,
      )
    }
  }

  /** Releases whose result never came back are released again; the attempt is not counted. */
  expireLeases(now: number): number {
    return this.sql
      .exec(
        "UPDATE targets SET status = CASE WHEN attempts = 0 THEN 'queued' ELSE 'retrying' END, next_attempt_ms = ?, lease = NULL, updated_ms = ? WHERE status = 'delivering' AND released_ms < ? RETURNING delivery_id",
        now,
        now,
        now - LEASE_MS,
      )
      .toArray().length
  }

  /** Applies a report batch's results in order; each destination's health is written once. */
  applyResults(
    reports: readonly AttemptReport[],
    now: number,
    settings: Settings,
    effects: ResultEffects,
  ): AttemptVerdict[] {
    return this.health.batched(() =>
      reports.map((report) => this.applyResult(report, now, settings, effects)),
    )
  }

  /** Applies one attempt's result: the attempt is always recorded; state moves only for the current lease. */
  private applyResult(
    report: AttemptReport,
    now: number,
    settings: Settings,
    effects: ResultEffects,
  ): AttemptVerdict {
    const target = this.sql
      .exec<TargetRow>(
        'SELECT * FROM targets WHERE delivery_id = ? AND destination_id = ?',
        report.deliveryId,
        report.destinationId,
      )
      .toArray()[0]
    if (!target) return 'ignored'
    const { outcome } = report
    const error =
      outcome.kind === 'delivered'
        ? null
        : { code: outcome.code, message: outcome.message, httpStatus: outcome.httpStatus ?? null }
    const reference = outcome.kind === 'delivered' ? outcome.reference : null
    this.sql.exec(
      'INSERT INTO attempts (id, delivery_id, destination_id, attempt, started_at, duration_ms, outcome, error, reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      newId('attempt'),
      report.deliveryId,
      report.destinationId,
      report.attempt,
      report.startedAt,
      report.durationMs,
      outcome.kind,
      error ? JSON.stringify(error) : null,
      reference ? JSON.stringify(reference) : null,
    )
    const current = target.status === 'delivering' && target.lease === report.lease
    const lateSuccess =
      outcome.kind === 'delivered' &&
      !current &&
      target.status !== 'delivered' &&
      target.status !== 'skipped'
    if (!current && !lateSuccess) return 'ignored'

    const attempts = current ? target.attempts + 1 : target.attempts
    const update = (fields: {
      status: string
      reason?: string | null
      nextAttemptMs?: number | null
      deliveredAt?: string | null
    }) =>
      this.sql.exec(
        `UPDATE targets SET status = ?, reason = ?, attempts = ?, next_attempt_ms = ?, lease = NULL, last_attempt_at = ?, delivered_at = coalesce(?, delivered_at),
           last_error = coalesce(?, last_error), reference = coalesce(?, reference), updated_ms = ? WHERE delivery_id = ? AND destination_id = ?`,
        fields.status,
        fields.reason ?? null,
        attempts,
        fields.nextAttemptMs ?? null,
        report.startedAt,
        fields.deliveredAt ?? null,
        error ? JSON.stringify(error) : null,
        reference ? JSON.stringify(reference) : null,
        now,
        report.deliveryId,
        report.destinationId,
      )

    if (outcome.kind === 'delivered') {
      update({ status: 'delivered', deliveredAt: new Date(now).toISOString() })
      if (this.health.recordSuccess(report.destinationId, now).recovered)
        effects.recovered.push(report.destinationId)
      return 'delivered'
    }
    if (outcome.kind === 'permanent' && outcome.code === 'destination_deleted') {
      update({ status: 'skipped', reason: 'destination_deleted' })
      return 'skipped'
    }
    const health = this.health.recordFailure(report.destinationId, now, settings.health)
    if (health.opened) effects.circuitOpened.push(report.destinationId)
    if (outcome.kind === 'permanent' && outcome.disableDestination) {
      effects.disable.push({
        destinationId: report.destinationId,
        reason: `${outcome.code}: ${outcome.message}`,
      })
    } else if (health.disable) {
      effects.disable.push({ destinationId: report.destinationId, reason: 'failing_too_long' })
    }
    if (outcome.kind === 'retryable' && hasAttemptsLeft(settings.retry, attempts)) {
      update({
        status: 'retrying',
        nextAttemptMs:
          now + retryDelayMs(settings.retry, attempts, outcome.retryAfterMs, Math.random()),
      })
      return 'retrying'
    }
    update({
      status: 'failed',
      reason: outcome.kind === 'retryable' ? 'retries_exhausted' : 'permanent_error',
    })
    effects.exhausted.push({ deliveryId: report.deliveryId, destinationId: report.destinationId })
    return 'failed'
  }

  /** Ends a destination's unsettled work as `skipped` (the destination was deleted). */
  skipDestination(destinationId: string, reason: string, now: number): number {
    return this.sql
      .exec(
        "UPDATE targets SET status = 'skipped', reason = ?, lease = NULL, updated_ms = ? WHERE destination_id = ? AND status NOT IN ('delivered', 'failed', 'skipped') RETURNING delivery_id",
        reason,
        now,
        destinationId,
      )
      .toArray().length
  }

  /** Queues a delivery's failed destinations again with a fresh attempt budget. */
  retryFailed(deliveryId: string, now: number): number {
    return this.sql
      .exec(
        "UPDATE targets SET status = 'queued', reason = NULL, attempts = 0, next_attempt_ms = ?, updated_ms = ? WHERE delivery_id = ? AND status = 'failed' RETURNING destination_id",
        now,
        now,
        deliveryId,
      )
      .toArray().length
  }

  /** Queues again every failed delivery to one destination accepted since a time. */
  recover(destinationId: string, sinceMs: number, now: number): number {
    return this.sql
      .exec(
        `UPDATE targets SET status = 'queued', reason = NULL, attempts = 0, next_attempt_ms = ?, updated_ms = ?
       WHERE destination_id = ? AND status = 'failed' AND delivery_id IN (SELECT id FROM deliveries WHERE accepted_ms >= ?) RETURNING delivery_id`,
        now,
        now,
        destinationId,
        sinceMs,
      )
      .toArray().length
  }

  /**
   * Sends every delivery accepted since a time to a destination, delivered before or not.
   * Operational events (a rotated secret, an alert) belong to the destinations they were
   * addressed to and are never replayed elsewhere.
   */
  replay(destination: DestinationSummary, sinceMs: number, now: number): number {
    const requeued = this.sql
      .exec(
        `UPDATE targets SET status = 'queued', reason = NULL, attempts = 0, next_attempt_ms = ?, updated_ms = ?
         WHERE destination_id = ? AND status <> 'delivering' AND delivery_id IN (SELECT id FROM deliveries WHERE accepted_ms >= ? AND payload_type NOT LIKE 'operational.%') RETURNING delivery_id`,
        now,
        now,
        destination.id,
        sinceMs,
      )
      .toArray().length
    const added = this.sql
      .exec(
        `INSERT INTO targets (delivery_id, destination_id, sequence, priority, label, type, status, next_attempt_ms, updated_ms)
         SELECT id, ?, sequence, priority, ?, ?, 'queued', ?, ? FROM deliveries
         WHERE accepted_ms >= ? AND payload_type NOT LIKE 'operational.%' AND NOT EXISTS (SELECT 1 FROM targets t WHERE t.delivery_id = deliveries.id AND t.destination_id = ?)
         RETURNING delivery_id`,
        destination.id,
        destination.label,
        destination.type,
        now,
        now,
        sinceMs,
        destination.id,
      )
      .toArray().length
    return requeued + added
  }

  /** Why pending work for a destination is not moving, or null when it is free to go. */
  holdReason(target: TargetRow, directory: DestinationDirectory): string | null {
    const destination = directory.get(target.destination_id)
    if (!destination) return null
    if (destination.disabled) return 'destination_disabled'
    if (this.health.isOpen(target.destination_id)) return 'circuit_open'
    if (destination.delivery.ordering === 'strict') {
      const head = this.headOfLine(target.destination_id, destination)
      if (head && head.delivery_id !== target.delivery_id) return 'waiting_for_earlier_delivery'
    }
    return null
  }

  /** Backlog of one destination: counts by state and the age of the oldest unsettled item. */
  backlog(destinationId: string, now: number) {
    const rows = this.sql
      .exec<{ status: string; n: number; oldest: number }>(
        `SELECT t.status AS status, count(*) AS n, min(d.accepted_ms) AS oldest FROM targets t JOIN deliveries d ON d.id = t.delivery_id
         WHERE t.destination_id = ? AND t.status IN ('queued', 'retrying', 'delivering') GROUP BY t.status`,
        destinationId,
      )
      .toArray()
    const count = (status: string) => rows.find((row) => row.status === status)?.n ?? 0
    const oldest = rows.length > 0 ? Math.min(...rows.map((row) => row.oldest)) : null
    return {
      queued: count('queued'),
      retrying: count('retrying'),
      delivering: count('delivering'),
      oldestAgeMs: oldest === null ? null : now - oldest,
    }
  }
}
