/**
 * The demo's core, runtime-neutral: sends real records through the service to one
 * destination of each type, waits until every delivery settles, checks every artifact at
 * its destination, and measures accept-to-delivered latency from the service's own
 * timestamps. Records go in waves (accept, settle, check) so the peers' records of one
 * wave are read while they are fresh.
 */
import {
  type Delivery,
  type DeliveryService,
  type Destination,
  type FetchLike,
  isSettled,
  summarize,
  type TimingSummary,
} from '../../src/client/index.ts'
import { type ArtifactCheck, checkArtifacts, type DestinationType } from './artifacts.ts'
import type { DemoPeers } from './peers.ts'
import { type DemoRecord, recordName, SOURCES, type SourceId } from './records.ts'

export const DESTINATION_TYPES = ['webhook', 'storage', 'email', 'download'] as const

export interface DemoTargets {
  organizationId: string
  /** One destination id per type. */
  destinations: Record<DestinationType, string>
  /** The webhook destination's signing secret(s). */
  webhookSecrets: readonly string[]
}

export interface DemoOptions {
  client: DeliveryService
  /** For download links, the S3 server and the peers. */
  fetch: FetchLike
  peers: DemoPeers
  targets: DemoTargets
  records: readonly DemoRecord[]
  /** Tags this run's deliveries and keys their idempotency. */
  runId: string
  /** Records per wave. Default 100. */
  waveSize?: number
  /** How long a wave may take to settle. Default 120 s. */
  settleTimeoutMs?: number
  pollIntervalMs?: number
  onProgress?: (progress: DemoProgress) => void
}

export interface DemoProgress {
  phase: 'accepting' | 'settling' | 'checking'
  /** Records through every phase so far. */
  done: number
  total: number
}

export interface DemoFailure {
  record: string
  type?: DestinationType
  deliveryId?: string
  reason: string
}

export interface DemoResult {
  organizationId: string
  runId: string
  records: number
  bySource: Record<SourceId, number>
  accepted: number
  /** Per destination type: deliveries delivered, and artifacts found exactly as sent. */
  delivered: Record<DestinationType, number>
  verified: Record<DestinationType, number>
  failures: DemoFailure[]
  /** Accept to delivered, in ms, per destination type and over all. */
  latency: Record<DestinationType | 'all', TimingSummary>
  durationMs: number
  /** True when every record was accepted, delivered everywhere and verified everywhere. */
  ok: boolean
}

const byType = <T>(value: () => T) =>
  Object.fromEntries(DESTINATION_TYPES.map((type) => [type, value()])) as Record<DestinationType, T>

async function settle(options: DemoOptions, correlationId: string, expected: number) {
  const deadline = Date.now() + (options.settleTimeoutMs ?? 120_000)
  for (;;) {
    const views: Delivery[] = []
    let cursor: string | undefined
    do {
      const page = await options.client.listDeliveries({
        organizationId: options.targets.organizationId,
        correlationId,
        limit: 200,
        cursor,
      })
      views.push(...page.deliveries)
      cursor = page.nextCursor ?? undefined
    } while (cursor)
    const settled = views.filter(isSettled).length
    if ((views.length >= expected && settled === views.length) || Date.now() >= deadline)
      return views
    await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs ?? 250))
  }
}

/** Accepts one wave through the batch route; each record's delivery id, and the refusals. */
async function acceptWave(
  options: DemoOptions,
  wave: readonly DemoRecord[],
  correlationId: string,
) {
  const { targets } = options
  const { results } = await options.client.deliverBatch(
    wave.map((record) => ({
      organizationId: targets.organizationId,
      destinations: DESTINATION_TYPES.map((type) => targets.destinations[type]),
      payload: record.payload,
      options: {
        correlationId,
        idempotencyKey: `demo-${options.runId}-${recordName(record)}`,
        tags: ['demo', record.source],
      },
    })),
  )
  const recordOf = new Map<string, DemoRecord>()
  const refused: DemoFailure[] = []
  for (const result of results) {
    const record = wave[result.index] as DemoRecord
    if (result.status !== 'rejected' && result.deliveryId) recordOf.set(result.deliveryId, record)
    else
      refused.push({
        record: recordName(record),
        reason: `not accepted: ${result.error?.code}: ${result.error?.message}`,
      })
  }
  return { recordOf, refused }
}

/** What the run has counted so far. */
interface Tally {
  accepted: number
  delivered: Record<DestinationType, number>
  verified: Record<DestinationType, number>
  latencies: Record<DestinationType, number[]>
  failures: DemoFailure[]
}

function count(
  tally: Tally,
  views: readonly Delivery[],
  checks: readonly ArtifactCheck[],
  recordOf: ReadonlyMap<string, DemoRecord>,
): void {
  for (const view of views)
    for (const target of view.destinations) {
      if (target.status !== 'delivered' || !target.deliveredAt) continue
      tally.delivered[target.type] += 1
      tally.latencies[target.type].push(
        Date.parse(target.deliveredAt) - Date.parse(view.acceptedAt),
      )
    }
  for (const check of checks) {
    if (check.ok) tally.verified[check.type] += 1
    else
      tally.failures.push({
        record: recordName(recordOf.get(check.deliveryId) as DemoRecord),
        type: check.type,
        deliveryId: check.deliveryId,
        reason: check.detail,
      })
  }
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = Date.now()
  const { client, targets, records } = options
  const waveSize = options.waveSize ?? 100
  const destinations = new Map<string, Destination>()
  for (const type of DESTINATION_TYPES) {
    const id = targets.destinations[type]
    destinations.set(
      id,
      await client.getDestination(id, { organizationId: targets.organizationId }),
    )
  }
  const context = {
    fetch: options.fetch,
    peers: options.peers,
    destinations,
    webhookSecrets: new Map([[targets.destinations.webhook, targets.webhookSecrets]]),
  }
  const tally: Tally = {
    accepted: 0,
    delivered: byType(() => 0),
    verified: byType(() => 0),
    latencies: byType((): number[] => []),
    failures: [],
  }
  const progress = (phase: DemoProgress['phase'], done: number) =>
    options.onProgress?.({ phase, done, total: records.length })

  for (let start = 0; start < records.length; start += waveSize) {
    const wave = records.slice(start, start + waveSize)
    const correlationId = `${options.runId}-${start / waveSize + 1}`
    progress('accepting', start)
    const { recordOf, refused } = await acceptWave(options, wave, correlationId)
    tally.accepted += recordOf.size
    tally.failures.push(...refused)

    progress('settling', start)
    // Oldest first, which is the order of the records in the wave.
    const views = (await settle(options, correlationId, recordOf.size))
      .filter((view) => recordOf.has(view.deliveryId))
      .sort((a, b) => a.sequence - b.sequence)
    const listed = new Set(views.map((view) => view.deliveryId))
    for (const [deliveryId, record] of recordOf)
      if (!listed.has(deliveryId))
        tally.failures.push({
          record: recordName(record),
          deliveryId,
          reason: 'accepted but not listed',
        })

    progress('checking', start)
    const sent = views.map((delivery) => ({
      delivery,
      payload: (recordOf.get(delivery.deliveryId) as DemoRecord).payload,
    }))
    count(tally, views, await checkArtifacts(context, sent), recordOf)
    progress('checking', start + wave.length)
  }

  const everywhere = (counts: Record<DestinationType, number>) =>
    DESTINATION_TYPES.every((type) => counts[type] === records.length)
  return {
    organizationId: targets.organizationId,
    runId: options.runId,
    records: records.length,
    bySource: Object.fromEntries(
      Object.keys(SOURCES).map((id) => [
        id,
        records.filter((record) => record.source === id).length,
      ]),
    ) as Record<SourceId, number>,
    accepted: tally.accepted,
    delivered: tally.delivered,
    verified: tally.verified,
    failures: tally.failures,
    latency: {
      ...mapTypes(tally.latencies),
      all: summarize(DESTINATION_TYPES.flatMap((type) => tally.latencies[type])),
    },
    durationMs: Date.now() - started,
    ok:
      records.length > 0 &&
      tally.accepted === records.length &&
      tally.failures.length === 0 &&
      everywhere(tally.delivered) &&
      everywhere(tally.verified),
  }
}

function mapTypes(latencies: Record<DestinationType, number[]>) {
  return Object.fromEntries(
    DESTINATION_TYPES.map((type) => [type, summarize(latencies[type])]),
  ) as Record<DestinationType, TimingSummary>
}
