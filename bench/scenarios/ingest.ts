/**
 * Ingest throughput: single deliveries (`POST /v1/deliveries`) and batches
 * (`POST /v1/deliveries/batch`), for one organization or spread over several. Deliveries
 * go to a "sink" webhook limited to one release per second, so the measurement is the
 * accept path (validate, seal, record, queue the outbox rows) without delivery work
 * competing for the runtime; the end-to-end phases measure everything together. After
 * each run, the organizations' gap-free sequence numbers prove every 202 was stored.
 */
import type { BenchContext } from '../lib/context.ts'
import { individualDelivery, phiAccessDelivery, streamEvent } from '../lib/events.ts'
import { type LoadResult, runLoad } from '../lib/load.ts'
import type { Tenant } from '../lib/service.ts'

export interface SinkTenant extends Tenant {
  sinkId: string
}

export interface IngestResult extends LoadResult {
  /** The ceiling measured right before this phase, and this phase's ratio to it. */
  ceiling: LoadResult
  /** Requests per second (single) or deliveries per second (batch) over the ceiling's requests per second. */
  ratio: number
  organizations: number
  /** Deliveries per request. */
  batchSize: number
  /** Deliveries per second (requests per second × batch size). */
  eventsPerSecond: number
  /** Deliveries the organizations recorded during the run, from their sequence numbers. */
  stored: number
  /** Deliveries answered as accepted but not stored (must be 0). */
  lost: number
}

export async function createSinkTenants(
  ctx: BenchContext,
  prefix: string,
  count: number,
): Promise<SinkTenant[]> {
  const tenants: SinkTenant[] = []
  for (let i = 0; i < count; i++) {
    const tenant = await ctx.service.createTenant(`${prefix}-${i}`, 50)
    const path = `/sink/${tenant.organizationId}`
    const sink = await ctx.service.createWebhook(tenant, {
      label: 'sink',
      url: `${ctx.receiver.url}${path}`,
      delivery: { ratePerSecond: 1 },
    })
    ctx.receiver.register(path, sink.secret)
    tenants.push({ ...tenant, sinkId: sink.id })
  }
  return tenants
}

/** Deletes the sinks, so what they still hold ends `skipped` and stops using the runtime. */
export async function removeSinks(ctx: BenchContext, tenants: SinkTenant[]): Promise<void> {
  for (const tenant of tenants) await ctx.service.deleteDestination(tenant, tenant.sinkId)
}

async function storedCount(ctx: BenchContext, tenants: Tenant[]): Promise<number> {
  let total = 0
  for (const tenant of tenants) total += await ctx.service.acceptedCount(tenant)
  return total
}

/** A batch request body of `size` deliveries to the tenant's sink. */
export function batchBody(tenant: SinkTenant, size: number): string {
  const deliveries = Array.from({ length: size }, (_, i) =>
    individualDelivery(streamEvent(i, 1), [tenant.sinkId]),
  )
  return JSON.stringify({ deliveries })
}

export async function measureIngest(
  ctx: BenchContext,
  tenants: SinkTenant[],
  mode: { batchSize: number; connections: number },
  ceiling: LoadResult,
): Promise<IngestResult> {
  const batch = mode.batchSize > 1
  const requests = tenants.map((tenant) => ({
    method: 'POST' as const,
    path: batch ? '/v1/deliveries/batch' : '/v1/deliveries',
    headers: { authorization: `Bearer ${tenant.apiKey}` },
    body: batch ? batchBody(tenant, mode.batchSize) : phiAccessDelivery(tenant.sinkId),
  }))
  const run = (seconds: number) =>
    runLoad({
      url: ctx.service.baseUrl,
      requests,
      connections: mode.connections,
      seconds,
      expectStatus: batch ? 200 : 202,
      runtimePids: ctx.dev.runtimePids(),
    })
  await run(2)
  // Requests cut off when the warm-up ended may still land: let them.
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const before = await storedCount(ctx, tenants)
  const load = await run(ctx.options.seconds)
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const stored = (await storedCount(ctx, tenants)) - before
  const answered = load.ok * mode.batchSize
  const eventsPerSecond = Math.round(load.requestsPerSecond * mode.batchSize)
  return {
    ...load,
    ceiling,
    ratio: Math.round((eventsPerSecond / ceiling.requestsPerSecond) * 1000) / 1000,
    organizations: tenants.length,
    batchSize: mode.batchSize,
    eventsPerSecond,
    stored,
    lost: Math.max(0, answered - stored),
  }
}
