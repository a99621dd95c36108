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

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = Date.now()
  const { client, targets, records } = options
  const waveSize = options.waveSize ?? 100
  const destinationIds = DESTINATION_TYPES.map((type) => targets.destinations[type])
  const destinations = new Map<string, Destination>()
  for (const id of destinationIds)
    destinations.set(
      id,
      await client.getDestination(id, { organizationId: targets.organizationId }),
    )

  const bySource = Object.fromEntries(
    Object.keys(SOURCES).map((id) => [id, records.filter((record) => record.source === id).length]),
  ) as Record<SourceId, number>
  const delivered = byType(() => 0)
  const verified = byType(() => 0)
  const latencies = byType((): number[] => [])
  const failures: DemoFailure[] = []
  let accepted = 0
  let done = 0

  for (let start = 0; start < records.length; start += waveSize) {
    const wave = records.slice(start, start + waveSize)
    const correlationId = `${options.runId}-${start / waveSize + 1}`
    options.onProgress?.({ phase: 'accepting', done, total: records.length })
    const { results } = await client.deliverBatch(
      wave.map((record) => ({
        organizationId: targets.organizationId,
        destinations: destinationIds,
        payload: record.payload,
        options: {
          correlationId,
          idempotencyKey: `demo-${options.runId}-${recordName(record)}`,
          tags: ['demo', record.source],
        },
      })),
    )
    const recordOf = new Map<string, DemoRecord>()
    for (const result of results) {
      const record = wave[result.index] as DemoRecord
      if (result.status === 'rejected' || !result.deliveryId) {
        failures.push({
          record: recordName(record),
          reason: `not accepted: ${result.error?.code}: ${result.error?.message}`,
        })
        continue
      }
      accepted += 1
      recordOf.set(result.deliveryId, record)
    }

    options.onProgress?.({ phase: 'settling', done, total: records.length })
    // Oldest first, which is the order of the records in the wave.
    const views = (await settle(options, correlationId, recordOf.size))
      .filter((view) => recordOf.has(view.deliveryId))
      .sort((a, b) => a.sequence - b.sequence)
    const seen = new Set(views.map((view) => view.deliveryId))
    for (const [deliveryId, record] of recordOf)
      if (!seen.has(deliveryId))
        failures.push({ record: recordName(record), deliveryId, reason: 'accepted but not listed' })

    options.onProgress?.({ phase: 'checking', done, total: records.length })
    const checks = await checkArtifacts(
      {
        fetch: options.fetch,
        peers: options.peers,
        destinations,
        webhookSecrets: new Map([[targets.destinations.webhook, targets.webhookSecrets]]),
      },
      views.map((delivery) => ({
        delivery,
        payload: (recordOf.get(delivery.deliveryId) as DemoRecord).payload,
      })),
    )
    tally(views, checks)
    done += wave.length
    options.onProgress?.({ phase: 'checking', done, total: records.length })

    function tally(views: Delivery[], checks: ArtifactCheck[]) {
      for (const view of views) {
        for (const target of view.destinations) {
          if (target.status !== 'delivered' || !target.deliveredAt) continue
          delivered[target.type] += 1
          latencies[target.type].push(Date.parse(target.deliveredAt) - Date.parse(view.acceptedAt))
        }
      }
      for (const check of checks) {
        if (check.ok) verified[check.type] += 1
        else
          failures.push({
            record: recordName(recordOf.get(check.deliveryId) as DemoRecord),
            type: check.type,
            deliveryId: check.deliveryId,
            reason: check.detail,
          })
      }
    }
  }

  const all = DESTINATION_TYPES.flatMap((type) => latencies[type])
  const everywhere = (counts: Record<DestinationType, number>) =>
    DESTINATION_TYPES.every((type) => counts[type] === records.length)
  return {
    organizationId: targets.organizationId,
    runId: options.runId,
    records: records.length,
    bySource,
    accepted,
    delivered,
    verified,
    failures,
    latency: { ...mapTypes(latencies), all: summarize(all) },
    durationMs: Date.now() - started,
    ok:
      records.length > 0 &&
      accepted === records.length &&
      failures.length === 0 &&
      everywhere(delivered) &&
      everywhere(verified),
  }
}

function mapTypes(latencies: Record<DestinationType, number[]>) {
  return Object.fromEntries(
    DESTINATION_TYPES.map((type) => [type, summarize(latencies[type])]),
  ) as Record<DestinationType, TimingSummary>
}
