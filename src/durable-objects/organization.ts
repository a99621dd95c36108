/**
 * One Durable Object per organization: the single writer for that tenant's keys,
 * settings, sequence numbers, idempotency keys, delivery records and per-destination
 * outboxes. Methods are typed RPC; state is the object's own SQLite; an alarm releases
 * work that falls due and re-sends what could not be enqueued.
 */
import { DurableObject } from 'cloudflare:workers'
import type { AttemptMessage } from '../delivery/messages'
import { SEND_BATCH_MAX_BYTES, SEND_BATCH_MAX_MESSAGES } from '../delivery/messages'
import { sealPayload } from '../delivery/payload'
import type { ServiceEnv } from '../env'
import { log } from '../lib/logger'
import type { AttemptView, DeliveryView } from '../schemas/delivery'
import type { Settings } from '../schemas/settings'
import {
  listDestinationSummaries,
  setDestinationDisabled,
} from '../services/destinations/repository'
import { acceptedEvents, recordMetricEvents } from '../services/metrics/recorder'
import {
  type ApiKeyRecord,
  ApiKeyStore,
  type KeyCheck,
  type KeyCredentials,
} from './organization/api-keys'
import { type DestinationOverview, destinationOverview } from './organization/backlog'
import {
  type AcceptContext,
  type AcceptItem,
  type AcceptResult,
  type DeliveryFilters,
  DeliveryStore,
} from './organization/deliveries'
import { DestinationDirectory, type DestinationSummary } from './organization/directory'
import { type DestinationHealth, HealthStore } from './organization/health'
import { MetaStore, type OrganizationIdentity } from './organization/meta'
import { migrate } from './organization/migrations'
import {
  type AttemptReport,
  type AttemptVerdict,
  Outbox,
  type ResultEffects,
} from './organization/outbox'
import { TokenBucket } from './organization/rate-limiter'
import { RetentionArchiver } from './organization/retention'

/** After a failed queue send, the alarm tries again this much later. */
const SEND_RETRY_MS = 2_000
/** How often the alarm archives old records and forgets expired idempotency keys. */
const HOUSEKEEPING_INTERVAL_MS = 3_600_000
/** An alarm that failed re-arms itself this much later (the platform retries alarms only 6 times). */
const ALARM_RETRY_MS = 5_000

export class OrganizationDurableObject extends DurableObject<ServiceEnv> {
  private readonly sql: SqlStorage
  private readonly meta: MetaStore
  private readonly apiKeys: ApiKeyStore
  private readonly deliveries: DeliveryStore
  private readonly health: HealthStore
  private readonly outbox: Outbox
  private readonly directory: DestinationDirectory
  private readonly retention: RetentionArchiver
  private ingestBucket: TokenBucket | null = null
  private readonly destinationBuckets = new Map<string, TokenBucket>()
  private settingsCache: Settings | null = null
  /**
   * How released messages reach a queue. A replaceable field rather than a direct call so
   * that a test (through runInDurableObject) can make a send fail after the outbox
   * committed its release, and watch the alarm send it again.
   */
  queueSender = async (queue: Queue, batch: MessageSendRequest<AttemptMessage>[]) => {
    await queue.sendBatch(batch)
  }

  constructor(ctx: DurableObjectState, env: ServiceEnv) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    ctx.blockConcurrencyWhile(async () => migrate(this.sql))
    this.meta = new MetaStore(this.sql)
    this.apiKeys = new ApiKeyStore(this.sql)
    this.deliveries = new DeliveryStore(this.sql, ctx.storage)
    this.health = new HealthStore(this.sql)
    this.outbox = new Outbox(this.sql, this.health)
    this.retention = new RetentionArchiver(this.sql, env.ARTIFACTS, env.ENCRYPTION_KEYS)
    this.directory = new DestinationDirectory(() =>
      listDestinationSummaries(this.env, this.organizationId()),
    )
  }

  private organizationId(): string {
    const identity = this.meta.identity()
    if (!identity) throw new Error('organization object used before its identity was set')
    return identity.id
  }

  private settings(): Settings {
    this.settingsCache ??= this.meta.settings()
    return this.settingsCache
  }

  // Identity, keys and settings

  /** Records who this object is; called when the operator creates or changes the organization. */
  async setIdentity(identity: OrganizationIdentity): Promise<void> {
    this.meta.setIdentity(identity)
  }

  async identity(): Promise<OrganizationIdentity | null> {
    return this.meta.identity()
  }

  async issueApiKey(input: {
    id: string
    name: string
    keyHash: string
    prefix: string
    expiresAt: string | null
  }): Promise<ApiKeyRecord> {
    return this.apiKeys.insert(input, new Date().toISOString())
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.apiKeys.list()
  }

  async revokeApiKey(keyId: string): Promise<ApiKeyRecord | null> {
    return this.apiKeys.revoke(keyId, new Date().toISOString())
  }

  /** Checks a presented key by id and hash; a disabled organization refuses every key. */
  async authenticate(keyId: string, keyHash: string): Promise<KeyCheck> {
    return this.checkKey({ keyId, keyHash }, Date.now())
  }

  private checkKey(key: KeyCredentials, now: number): KeyCheck {
    const identity = this.meta.identity()
    if (!identity) return { ok: false, reason: 'unknown' }
    const check = this.apiKeys.check(key.keyId, key.keyHash, new Date(now))
    if (check.ok && identity.status === 'disabled')
      return { ok: false, reason: 'organization_disabled' }
    return check
  }

  async getSettings(): Promise<Settings> {
    return this.settings()
  }

  async replaceSettings(settings: Settings): Promise<Settings> {
    this.meta.setSettings(settings)
    this.settingsCache = null
    return settings
  }

  // Deliveries

  /**
   * Checks the presented key exactly as `authenticate` does, then accepts deliveries, each
   * decided on its own, all in one transaction: sequence numbers, idempotency keys,
   * delivery and outbox rows are written before this returns, so a 202 always stands for
   * stored work. A refused key writes nothing and gets no results.
   */
  async accept(
    key: KeyCredentials,
    items: AcceptItem[],
    requestId: string | null,
  ): Promise<{ key: KeyCheck; results: AcceptResult[] }> {
    const now = Date.now()
    await this.directory.refresh(now)
    // After the last await before the writes, so no revocation can fall between the two.
    const check = this.checkKey(key, now)
    if (!check.ok) return { key: check, results: [] }
    const settings = this.settings()
    const bucket = this.ingestLimiter(settings, now)
    const results = this.deliveries.acceptAll(
      items,
      this.acceptContext(now, settings, requestId, () => bucket.take(now)),
    )
    const destinations = new Set<string>()
    for (const result of results) {
      if (result.kind !== 'accepted') continue
      for (const target of result.response.destinations) destinations.add(target.destinationId)
    }
    if (destinations.size > 0) await this.wakeForAccepted(destinations, now)
    return { key: check, results }
  }

  /**
   * Sends an operational event (an alert, a rotated secret, a disabled destination) to
   * destinations of this organization through the ordinary outbox, so it is recorded,
   * retried and auditable like any delivery. It bypasses the ingest rate limit.
   */
  async emitOperationalEvent(event: {
    type: string
    data: unknown
    destinationIds: string[]
  }): Promise<AcceptResult | null> {
    if (event.destinationIds.length === 0) return null
    const now = Date.now()
    await this.directory.refresh(now)
    const data = JSON.stringify(event.data)
    const item: AcceptItem = {
      index: 0,
      destinations: event.destinationIds,
      payloadType: event.type,
      priority: 9,
      idempotencyKey: null,
      correlationId: null,
      tags: ['operational'],
      sealedPayload: await sealPayload(this.env.ENCRYPTION_KEYS, { data, metadata: null }),
      payloadRef: null,
      payloadBytes: data.length,
      requestHash: '',
    }
    const [result] = this.deliveries.acceptAll(
      [item],
      this.acceptContext(now, this.settings(), null, () => true),
    )
    if (!result) throw new Error('acceptAll returned no result')
    if (result.kind === 'accepted') {
      await this.wakeSoon(now)
      await recordMetricEvents(this.env, acceptedEvents(this.organizationId(), [result.response]))
    } else
      log.warn({
        event: 'operational_event_rejected',
        organizationId: this.organizationId(),
        type: event.type,
        outcome: result.kind,
      })
    return result
  }

  /** Milliseconds until the ingest limit admits one more delivery (for Retry-After). */
  async ingestRetryAfterMs(): Promise<number> {
    return this.ingestLimiter(this.settings(), Date.now()).waitMs(Date.now())
  }

  async getDelivery(deliveryId: string): Promise<DeliveryView | null> {
    await this.directory.refresh(Date.now())
    return this.deliveries.view(this.organizationId(), deliveryId, (target) =>
      this.outbox.holdReason(target, this.directory),
    )
  }

  async listDeliveries(
    filters: DeliveryFilters,
  ): Promise<{ deliveries: DeliveryView[]; nextSequence: number | null }> {
    await this.directory.refresh(Date.now())
    return this.deliveries.list(this.organizationId(), filters, (target) =>
      this.outbox.holdReason(target, this.directory),
    )
  }

  async listAttempts(deliveryId: string): Promise<AttemptView[] | null> {
    if (!this.deliveries.deliveryRow(deliveryId)) return null
    return this.deliveries.attempts(deliveryId)
  }

  /** Queues a delivery's failed destinations again; `nothing_to_retry` when none failed. */
  async retryDelivery(
    deliveryId: string,
  ): Promise<
    { ok: true; delivery: DeliveryView } | { ok: false; reason: 'not_found' | 'nothing_to_retry' }
  > {
    if (!this.deliveries.deliveryRow(deliveryId)) return { ok: false, reason: 'not_found' }
    const now = Date.now()
    if (this.outbox.retryFailed(deliveryId, now) === 0)
      return { ok: false, reason: 'nothing_to_retry' }
    await this.wakeSoon(now)
    return { ok: true, delivery: (await this.getDelivery(deliveryId)) as DeliveryView }
  }

  /** Re-queues every failed delivery to a destination since a time. */
  async recoverDestination(destinationId: string, sinceMs: number): Promise<number> {
    const now = Date.now()
    const count = this.outbox.recover(destinationId, sinceMs, now)
    if (count > 0) await this.wakeSoon(now)
    return count
  }

  /** Sends every delivery since a time to a destination, including ones that never named it. */
  async replayToDestination(destinationId: string, sinceMs: number): Promise<number | null> {
    const now = Date.now()
    this.directory.invalidate()
    await this.directory.refresh(now)
    const destination = this.directory.get(destinationId)
    if (!destination) return null
    const count = this.outbox.replay(destination, sinceMs, now)
    if (count > 0) await this.wakeSoon(now)
    return count
  }

  /**
   * Results of attempts, from the queue consumer. State moves only for the current release.
   * Answers what each report did, in order, so the consumer can count final outcomes.
   */
  async recordAttempts(reports: AttemptReport[]): Promise<AttemptVerdict[]> {
    const now = Date.now()
    const effects: ResultEffects = { disable: [], recovered: [], circuitOpened: [], exhausted: [] }
    const settings = this.settings()
    const verdicts = this.ctx.storage.transactionSync(() =>
      this.outbox.applyResults(reports, now, settings, effects),
    )
    await this.applyEffects(effects)
    await this.releaseAndSend(now)
    return verdicts
  }

  /**
   * A message that exhausted the queue's own retries (the consumer kept failing) counts
   * as one failed attempt, so the outbox retries it or records the failure: never lost.
   */
  async recordDeadLetter(message: AttemptMessage): Promise<AttemptVerdict[]> {
    return this.recordAttempts([
      {
        deliveryId: message.deliveryId,
        destinationId: message.destinationId,
        lease: message.lease,
        attempt: message.attempt,
        startedAt: new Date().toISOString(),
        durationMs: 0,
        outcome: {
          kind: 'retryable',
          code: 'dead_lettered',
          message: 'The queue gave up on this message after its own retries',
        },
      },
    ])
  }

  /** Health and backlog of one destination. */
  async destinationHealth(
    destinationId: string,
  ): Promise<DestinationHealth & { backlog: ReturnType<Outbox['backlog']> }> {
    const now = Date.now()
    return {
      ...this.health.view(destinationId, this.settings().health),
      backlog: this.outbox.backlog(destinationId, now),
    }
  }

  /** Every destination's backlog, circuit and consecutive failures, for metrics and alert rules. */
  async destinationOverview(): Promise<DestinationOverview[]> {
    const now = Date.now()
    await this.directory.refresh(now)
    return destinationOverview(
      this.sql,
      { directory: this.directory, health: this.health, outbox: this.outbox },
      this.settings().health,
      now,
    )
  }

  /**
   * Called by the Worker after one of this organization's destinations changed in D1, so
   * the object stops using what it cached. A deleted destination's pending work ends `skipped`;
   * a destination enabled again resumes with a closed circuit.
   */
  async destinationsChanged(change: { destinationId: string; deleted: boolean }): Promise<void> {
    const now = Date.now()
    const before = this.directory.get(change.destinationId)
    this.directory.invalidate()
    this.destinationBuckets.delete(change.destinationId)
    if (change.deleted) {
      this.outbox.skipDestination(change.destinationId, 'destination_deleted', now)
      return
    }
    await this.directory.refresh(now)
    const after = this.directory.get(change.destinationId)
    if (before?.disabled && after && !after.disabled) this.health.reset(change.destinationId)
    await this.wakeSoon(now)
  }

  /** Deletes everything this object holds, alarm included; it answers afterwards as a new, unknown organization. */
  async purge(): Promise<void> {
    await this.ctx.storage.deleteAlarm()
    await this.ctx.storage.deleteAll()
    migrate(this.sql)
    this.settingsCache = null
    this.directory.invalidate()
  }

  // The alarm: release due work, recover lost releases, housekeeping.

  override async alarm(): Promise<void> {
    const now = Date.now()
    try {
      this.outbox.expireLeases(now)
      await this.housekeeping(now)
      await this.releaseAndSend(now)
    } catch (error) {
      log.error({
        event: 'alarm_failed',
        error: (error as Error).message,
        stack: (error as Error).stack,
      })
      await this.ctx.storage.setAlarm(Date.now() + ALARM_RETRY_MS)
    }
  }

  /**
   * Hourly: forget expired idempotency keys and archive records past retention. While
   * deliveries remain, the alarm stays armed for the next round at the latest.
   */
  private async housekeeping(now: number): Promise<void> {
    if (!this.meta.identity()) return
    const due = Number(this.meta.get('next_housekeeping_ms') ?? 0)
    if (now >= due) {
      const settings = this.settings()
      this.deliveries.expireIdempotencyKeys(now, settings.limits.idempotencyTtlHours * 3_600_000)
      const archived = await this.retention.archiveExpired(
        this.organizationId(),
        now,
        settings.limits.retentionDays,
      )
      if (archived > 0)
        log.info({
          event: 'records_archived',
          organizationId: this.organizationId(),
          count: archived,
        })
      // A full batch means more are waiting: come back soon rather than in an hour.
      this.meta.set(
        'next_housekeeping_ms',
        String(now + (archived >= 500 ? 1000 : HOUSEKEEPING_INTERVAL_MS)),
      )
    }
    if (this.deliveries.lastSequence() > 0) {
      const next = Number(this.meta.get('next_housekeeping_ms'))
      const current = await this.ctx.storage.getAlarm()
      if (current === null || current > next) await this.ctx.storage.setAlarm(next)
    }
  }

  /** What an accept call at `now` decides its items against. */
  private acceptContext(
    now: number,
    settings: Settings,
    requestId: string | null,
    takeToken: () => boolean,
  ): AcceptContext {
    return {
      organizationId: this.organizationId(),
      directory: this.directory,
      now,
      idempotencyTtlMs: settings.limits.idempotencyTtlHours * 3_600_000,
      requestId,
      takeToken,
    }
  }

  /**
   * Arms the alarm for newly accepted work, unless each of its destinations is rate-limited
   * until the alarm already set or later: that alarm releases the work as soon as it could
   * go, and a throttled destination with a backlog would otherwise wake the object once
   * per accepted request for nothing.
   */
  private async wakeForAccepted(destinationIds: Set<string>, now: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm()
    if (current !== null && current <= now) return
    const couldGoSooner = (destinationId: string) => {
      const bucket = this.destinationBuckets.get(destinationId)
      return !bucket || current === null || now + bucket.waitMs(now) < current
    }
    if ([...destinationIds].some(couldGoSooner)) await this.ctx.storage.setAlarm(now)
  }

  /** Arms the alarm to run now unless it is already due sooner. */
  private async wakeSoon(now: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm()
    if (current === null || current > now) await this.ctx.storage.setAlarm(now)
  }

  private async releaseAndSend(now: number): Promise<void> {
    if (!this.meta.identity()) return
    await this.directory.refresh(now)
    const settings = this.settings()
    const release = this.outbox.release(now, {
      organizationId: this.organizationId(),
      directory: this.directory,
      settings,
      rateBucket: (destination) => this.destinationLimiter(destination, now),
    })
    const threshold = Number(this.env.HIGH_PRIORITY_THRESHOLD || 8)
    const high = release.messages.filter((m) => m.priority >= threshold).map((m) => m.message)
    const normal = release.messages.filter((m) => m.priority < threshold).map((m) => m.message)
    const failed = [
      ...(await this.send(this.env.PRIORITY_QUEUE, high)),
      ...(await this.send(this.env.DELIVERY_QUEUE, normal)),
    ]
    let wakeAt = release.wakeAtMs
    if (failed.length > 0) {
      this.outbox.unrelease(failed, now + SEND_RETRY_MS)
      wakeAt = Math.min(wakeAt ?? Number.POSITIVE_INFINITY, now + SEND_RETRY_MS)
    }
    // An alarm already due is left alone: it may be the one armed for work accepted while
    // the messages above were being sent, and it runs this release again when it fires.
    // Inside the alarm handler the running alarm reads as unset, so the next one is armed.
    if (wakeAt !== null) {
      const current = await this.ctx.storage.getAlarm()
      if (current === null || current > wakeAt)
        await this.ctx.storage.setAlarm(Math.max(wakeAt, now))
    }
  }

  /** Sends in chunks within the Queues limits; returns the messages that could not be sent. */
  private async send(queue: Queue, messages: AttemptMessage[]): Promise<AttemptMessage[]> {
    const failed: AttemptMessage[] = []
    let chunk: AttemptMessage[] = []
    let bytes = 0
    const flush = async () => {
      if (chunk.length === 0) return
      const batch = chunk
      chunk = []
      bytes = 0
      try {
        await this.queueSender(
          queue,
          batch.map((body) => ({ body, contentType: 'json' as const })),
        )
      } catch (error) {
        log.warn({
          event: 'queue_send_failed',
          error: (error as Error).message,
          messages: batch.length,
        })
        failed.push(...batch)
      }
    }
    for (const message of messages) {
      const size = JSON.stringify(message).length + 100
      if (chunk.length === SEND_BATCH_MAX_MESSAGES || bytes + size > SEND_BATCH_MAX_BYTES)
        await flush()
      chunk.push(message)
      bytes += size
    }
    await flush()
    return failed
  }

  private async applyEffects(effects: ResultEffects): Promise<void> {
    const organizationId = this.organizationId()
    const events: { type: string; data: Record<string, unknown>; about: string }[] = []
    for (const { destinationId, reason } of effects.disable) {
      await setDestinationDisabled(this.env, organizationId, destinationId, true, reason)
      this.directory.invalidate()
      log.warn({ event: 'destination_disabled', organizationId, destinationId, reason })
      events.push({
        type: 'operational.destination_disabled',
        data: { destinationId, reason },
        about: destinationId,
      })
    }
    for (const destinationId of effects.recovered) {
      events.push({
        type: 'operational.destination_recovered',
        data: { destinationId },
        about: destinationId,
      })
    }
    for (const { deliveryId, destinationId } of effects.exhausted) {
      // Failures of operational events are not reported again, or one broken alert destination would loop.
      if (this.deliveries.deliveryRow(deliveryId)?.payload_type.startsWith('operational.')) continue
      const target = this.deliveries
        .targets(deliveryId)
        .find((t) => t.destination_id === destinationId)
      const lastError = target?.last_error ? (JSON.parse(target.last_error) as unknown) : null
      events.push({
        type: 'operational.delivery_failed',
        data: { deliveryId, destinationId, lastError },
        about: destinationId,
      })
    }
    const alertDestination = this.settings().security.alertDestinationId
    if (!alertDestination) return
    for (const event of events) {
      if (event.about === alertDestination) continue
      await this.emitOperationalEvent({
        type: event.type,
        data: { organizationId, ...event.data, at: new Date().toISOString() },
        destinationIds: [alertDestination],
      })
    }
  }

  private ingestLimiter(settings: Settings, now: number): TokenBucket {
    this.ingestBucket ??= new TokenBucket(
      settings.limits.ingestPerSecond,
      settings.limits.ingestBurst,
      now,
    )
    this.ingestBucket.configure(settings.limits.ingestPerSecond, settings.limits.ingestBurst)
    return this.ingestBucket
  }

  private destinationLimiter(destination: DestinationSummary, now: number): TokenBucket | null {
    const rate = destination.delivery.ratePerSecond
    if (!rate) return null
    let bucket = this.destinationBuckets.get(destination.id)
    if (!bucket) {
      bucket = new TokenBucket(rate, rate, now)
      this.destinationBuckets.set(destination.id, bucket)
    }
    bucket.configure(rate, rate)
    return bucket
  }
}
