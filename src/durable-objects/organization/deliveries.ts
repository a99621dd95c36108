/**
 * Delivery records of one organization: acceptance (sequence numbers, idempotency keys,
 * the first outbox rows) and the read views. Acceptance is synchronous SQL inside one
 * `transactionSync` per accept call, so it is atomic and concurrent duplicates meet one
 * after the other.
 */
import { messageIdFor } from '../../delivery/envelope'
import { rollUpStatus } from '../../delivery/status-rollup'
import { newId } from '../../lib/ids'
import type {
  AcceptedDelivery,
  AttemptView,
  DeliveryStatus,
  DeliveryView,
  DestinationStatus,
} from '../../schemas/delivery'
import { insertRows } from './bulk-insert'
import type { DestinationDirectory, ResolutionError } from './directory'

/** One delivery as the Worker hands it over: validated, payload already sealed. */
export interface AcceptItem {
  index: number
  destinations: string | string[]
  payloadType: string
  priority: number
  idempotencyKey: string | null
  correlationId: string | null
  tags: string[]
  sealedPayload: string | null
  payloadRef: string | null
  payloadBytes: number
  /** SHA-256 of the request bytes, to tell a replay from a reuse of the key. */
  requestHash: string
}

export interface ItemError {
  code: ResolutionError['code'] | 'idempotency_key_reused' | 'rate_limited'
  message: string
  details?: { issues: { path: string; message: string }[] }
}

export type AcceptResult =
  | { index: number; kind: 'accepted'; response: AcceptedDelivery }
  | { index: number; kind: 'duplicate'; response: AcceptedDelivery }
  | { index: number; kind: 'rejected'; error: ItemError }

interface DeliveryRow extends Record<string, SqlStorageValue> {
  id: string
  sequence: number
  payload_type: string
  priority: number
  correlation_id: string | null
  idempotency_key: string | null
  tags: string
  accepted_at: string
  accepted_ms: number
  updated_ms: number
}

export interface TargetRow extends Record<string, SqlStorageValue> {
  delivery_id: string
  destination_id: string
  sequence: number
  priority: number
  label: string
  type: string
  status: string
  reason: string | null
  attempts: number
  next_attempt_ms: number | null
  released_ms: number | null
  lease: string | null
  last_attempt_at: string | null
  delivered_at: string | null
  last_error: string | null
  reference: string | null
  updated_ms: number
}

export interface DeliveryFilters {
  status?: DeliveryStatus
  destinationId?: string
  correlationId?: string
  tag?: string
  payloadType?: string
  startMs?: number
  endMs?: number
  /** Sequence to continue below (from the cursor). */
  beforeSequence?: number
  limit: number
}

/** What an accept call decides items against. */
export interface AcceptContext {
  organizationId: string
  directory: DestinationDirectory
  now: number
  idempotencyTtlMs: number
  requestId: string | null
  takeToken: () => boolean
}

interface RememberedKey {
  requestHash: string
  response: AcceptedDelivery
}

const DELIVERY_COLUMNS = [
  'id',
  'sequence',
  'payload_type',
  'priority',
  'correlation_id',
  'idempotency_key',
  'tags',
  'payload',
  'payload_ref',
  'payload_bytes',
  'request_id',
  'accepted_at',
  'accepted_ms',
  'updated_ms',
] as const
const TARGET_COLUMNS = [
  'delivery_id',
  'destination_id',
  'sequence',
  'priority',
  'label',
  'type',
  'status',
  'next_attempt_ms',
  'updated_ms',
] as const
const IDEMPOTENCY_COLUMNS = [
  'key',
  'request_hash',
  'delivery_id',
  'response',
  'created_ms',
] as const
/** An expired key is taken again by a new delivery. */
const IDEMPOTENCY_REUSE = `ON CONFLICT (key) DO UPDATE SET request_hash = excluded.request_hash,
  delivery_id = excluded.delivery_id, response = excluded.response, created_ms = excluded.created_ms`

/** The rows one accept call writes, gathered while its items are decided. */
class AcceptWrites {
  readonly deliveries: SqlStorageValue[][] = []
  readonly targets: SqlStorageValue[][] = []
  readonly idempotencyKeys: SqlStorageValue[][] = []
  /** Keys taken earlier in this call, which a later item must meet like stored ones. */
  readonly keys = new Map<string, RememberedKey>()

  /** `now` as ISO 8601: every delivery of one call is accepted at the same instant. */
  readonly acceptedAt: string

  constructor(
    private sequence: number,
    now: number,
  ) {
    this.acceptedAt = new Date(now).toISOString()
  }

  nextSequence(): number {
    this.sequence += 1
    return this.sequence
  }

  flush(sql: SqlStorage): void {
    if (this.deliveries.length === 0) return
    sql.exec(
      "INSERT INTO meta (key, value) VALUES ('sequence', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      String(this.sequence),
    )
    insertRows(sql, 'deliveries', DELIVERY_COLUMNS, this.deliveries)
    insertRows(sql, 'targets', TARGET_COLUMNS, this.targets)
    insertRows(
      sql,
      'idempotency_keys',
      IDEMPOTENCY_COLUMNS,
      this.idempotencyKeys,
      IDEMPOTENCY_REUSE,
    )
  }
}

/** Rows examined per list call at most, so a rare status filter cannot scan without end. */
const LIST_SCAN_LIMIT = 5000

export class DeliveryStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
  ) {}

  /** The last sequence number handed out (0 before the first delivery). */
  lastSequence(): number {
    const row = this.sql
      .exec<{ value: string }>("SELECT value FROM meta WHERE key = 'sequence'")
      .toArray()[0]
    return row ? Number(row.value) : 0
  }

  /**
   * Accepts deliveries in one transaction, deciding each on its own and in order: replay
   * or conflict for a known idempotency key (one taken earlier in the same call included),
   * otherwise resolve destinations, take the next sequence number and write the delivery
   * with one outbox row per destination. A rejected item writes nothing, so numbers stay
   * gap-free. The rows are written together at the end, several per statement, and the
   * sequence once; any failure rolls the whole call back, so no answer names unstored work.
   */
  acceptAll(items: readonly AcceptItem[], context: AcceptContext): AcceptResult[] {
    return this.storage.transactionSync(() => {
      const writes = new AcceptWrites(this.lastSequence(), context.now)
      const results = items.map((item) => this.decide(item, context, writes))
      writes.flush(this.sql)
      return results
    })
  }

  private decide(item: AcceptItem, context: AcceptContext, writes: AcceptWrites): AcceptResult {
    const { now } = context
    if (item.idempotencyKey !== null) {
      const earlier =
        writes.keys.get(item.idempotencyKey) ??
        this.liveIdempotencyKey(item.idempotencyKey, now - context.idempotencyTtlMs)
      if (earlier) {
        if (earlier.requestHash === item.requestHash)
          return { index: item.index, kind: 'duplicate', response: earlier.response }
        return {
          index: item.index,
          kind: 'rejected',
          error: {
            code: 'idempotency_key_reused',
            message: `Idempotency key "${item.idempotencyKey}" was used with a different request`,
          },
        }
      }
    }
    const resolved = context.directory.resolve(item.destinations)
    if (!resolved.ok) return { index: item.index, kind: 'rejected', error: resolved.error }
    if (!context.takeToken()) {
      return {
        index: item.index,
        kind: 'rejected',
        error: {
          code: 'rate_limited',
          message: "The organization's ingest rate limit is exhausted",
        },
      }
    }

    const sequence = writes.nextSequence()
    const deliveryId = newId('delivery')
    const { acceptedAt } = writes
    writes.deliveries.push([
      deliveryId,
      sequence,
      item.payloadType,
      item.priority,
      item.correlationId,
      item.idempotencyKey,
      JSON.stringify(item.tags),
      item.sealedPayload,
      item.payloadRef,
      item.payloadBytes,
      context.requestId,
      acceptedAt,
      now,
      now,
    ])
    for (const destination of resolved.destinations) {
      writes.targets.push([
        deliveryId,
        destination.id,
        sequence,
        item.priority,
        destination.label,
        destination.type,
        'queued',
        now,
        now,
      ])
    }
    const response: AcceptedDelivery = {
      deliveryId,
      organizationId: context.organizationId,
      sequence,
      status: 'queued',
      acceptedAt,
      destinations: resolved.destinations.map((d) => ({
        destinationId: d.id,
        label: d.label,
        type: d.type,
        status: 'queued' as const,
      })),
    }
    if (item.idempotencyKey !== null) {
      writes.keys.set(item.idempotencyKey, { requestHash: item.requestHash, response })
      writes.idempotencyKeys.push([
        item.idempotencyKey,
        item.requestHash,
        deliveryId,
        JSON.stringify(response),
        now,
      ])
    }
    return { index: item.index, kind: 'accepted', response }
  }

  /** An idempotency key recorded since `sinceMs`, with the answer it was given. */
  private liveIdempotencyKey(key: string, sinceMs: number): RememberedKey | undefined {
    const row = this.sql
      .exec<{ request_hash: string; response: string; created_ms: number }>(
        'SELECT request_hash, response, created_ms FROM idempotency_keys WHERE key = ?',
        key,
      )
      .toArray()[0]
    if (!row || row.created_ms <= sinceMs) return undefined
    return { requestHash: row.request_hash, response: JSON.parse(row.response) as AcceptedDelivery }
  }

  /** Forgets idempotency keys older than the organization's TTL. */
  expireIdempotencyKeys(now: number, ttlMs: number): void {
    this.sql.exec('DELETE FROM idempotency_keys WHERE created_ms < ?', now - ttlMs)
  }

  deliveryRow(deliveryId: string): DeliveryRow | undefined {
    return this.sql
      .exec<DeliveryRow>('SELECT * FROM deliveries WHERE id = ?', deliveryId)
      .toArray()[0]
  }

  targets(deliveryId: string): TargetRow[] {
    return this.sql
      .exec<TargetRow>('SELECT * FROM targets WHERE delivery_id = ? ORDER BY rowid', deliveryId)
      .toArray()
  }

  /** A delivery with its destinations; `holdReason` explains queued work that is not moving. */
  view(
    organizationId: string,
    deliveryId: string,
    holdReason: (target: TargetRow) => string | null,
  ): DeliveryView | null {
    const row = this.deliveryRow(deliveryId)
    return row ? this.toView(organizationId, row, holdReason) : null
  }

  list(
    organizationId: string,
    filters: DeliveryFilters,
    holdReason: (target: TargetRow) => string | null,
  ): { deliveries: DeliveryView[]; nextSequence: number | null } {
    const conditions: string[] = []
    const bindings: SqlStorageValue[] = []
    const where = (condition: string, ...values: SqlStorageValue[]) => {
      conditions.push(condition)
      bindings.push(...values)
    }
    if (filters.beforeSequence !== undefined) where('sequence < ?', filters.beforeSequence)
    if (filters.correlationId !== undefined) where('correlation_id = ?', filters.correlationId)
    if (filters.payloadType !== undefined) where('payload_type = ?', filters.payloadType)
    if (filters.startMs !== undefined) where('accepted_ms >= ?', filters.startMs)
    if (filters.endMs !== undefined) where('accepted_ms <= ?', filters.endMs)
    if (filters.tag !== undefined)
      where('EXISTS (SELECT 1 FROM json_each(deliveries.tags) WHERE value = ?)', filters.tag)
    if (filters.destinationId !== undefined) {
      where(
        'EXISTS (SELECT 1 FROM targets WHERE targets.delivery_id = deliveries.id AND targets.destination_id = ?)',
        filters.destinationId,
      )
    }
    const clause = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''
    const scan = filters.status === undefined ? filters.limit + 1 : LIST_SCAN_LIMIT
    const rows = this.sql
      .exec<DeliveryRow>(
        `SELECT * FROM deliveries ${clause} ORDER BY sequence DESC LIMIT ?`,
        ...bindings,
        scan,
      )
      .toArray()
    const views: DeliveryView[] = []
    let nextSequence: number | null = null
    for (const row of rows) {
      const view = this.toView(organizationId, row, holdReason)
      if (filters.status !== undefined && view.status !== filters.status) continue
      if (views.length === filters.limit) {
        nextSequence = (views.at(-1) as DeliveryView).sequence
        break
      }
      views.push(view)
    }
    if (nextSequence === null && filters.status !== undefined && rows.length === scan) {
      nextSequence = (rows.at(-1) as DeliveryRow).sequence
    }
    return { deliveries: views, nextSequence }
  }

  attempts(deliveryId: string): AttemptView[] {
    return this.sql
      .exec<{
        id: string
        delivery_id: string
        destination_id: string
        attempt: number
        started_at: string
        duration_ms: number
        outcome: string
        error: string | null
        reference: string | null
      }>('SELECT * FROM attempts WHERE delivery_id = ? ORDER BY started_at, attempt', deliveryId)
      .toArray()
      .map((row) => ({
        attemptId: row.id,
        deliveryId: row.delivery_id,
        destinationId: row.destination_id,
        attempt: row.attempt,
        startedAt: row.started_at,
        durationMs: row.duration_ms,
        outcome: row.outcome as AttemptView['outcome'],
        error: row.error ? (JSON.parse(row.error) as AttemptView['error']) : null,
        reference: row.reference ? (JSON.parse(row.reference) as AttemptView['reference']) : null,
      }))
  }

  private toView(
    organizationId: string,
    row: DeliveryRow,
    holdReason: (target: TargetRow) => string | null,
  ): DeliveryView {
    const targets = this.targets(row.id)
    const destinations = targets.map((target) => {
      const held =
        target.status === 'queued' || target.status === 'retrying' ? holdReason(target) : null
      return {
        destinationId: target.destination_id,
        label: target.label,
        type: target.type as DeliveryView['destinations'][number]['type'],
        status: (held ? 'held' : target.status) as DestinationStatus,
        messageId: messageIdFor(row.id, target.destination_id),
        attempts: target.attempts,
        lastAttemptAt: target.last_attempt_at,
        nextAttemptAt:
          target.status === 'retrying' && target.next_attempt_ms !== null
            ? new Date(target.next_attempt_ms).toISOString()
            : null,
        deliveredAt: target.delivered_at,
        lastError: target.last_error ? JSON.parse(target.last_error) : null,
        reference: target.reference ? JSON.parse(target.reference) : null,
        reason: held ?? target.reason,
      }
    })
    return {
      deliveryId: row.id,
      organizationId,
      sequence: row.sequence,
      status: rollUpStatus(destinations),
      payloadType: row.payload_type,
      priority: row.priority,
      correlationId: row.correlation_id,
      idempotencyKey: row.idempotency_key,
      tags: JSON.parse(row.tags) as string[],
      acceptedAt: row.accepted_at,
      updatedAt: new Date(
        Math.max(row.updated_ms, ...targets.map((t) => t.updated_ms)),
      ).toISOString(),
      destinations,
    }
  }
}
