/**
 * End to end, timed from the first event sent until every delivery is verified where it
 * went: a signed request at the local webhook receiver and an object in the local R2
 * bucket. Two workloads:
 *
 * - the seed's high-volume scenario: a stream of events for ten organizations, taken in
 *   batches of 1,000, grouped by organization and then by destination set, each group
 *   sent as one bulk delivery (to the organization's defaults, a webhook and R2, plus a
 *   security webhook for high-severity events);
 * - individual deliveries, one per event, sent through the batch route 1,000 at a time,
 *   each to a webhook and to R2.
 */
import type { BenchContext } from '../lib/context.ts'
import {
  destinationsFor,
  individualDelivery,
  priorityOf,
  type StreamEvent,
  streamEvent,
} from '../lib/events.ts'
import { r2DeliveryIds, r2ObjectCount } from '../lib/r2-objects.ts'
import type { Tenant } from '../lib/service.ts'
import { type Expectation, type Verification, waitForArrivals } from '../lib/verify.ts'

interface E2ETenant extends Tenant {
  hookPath: string
  hookId: string
  r2Id: string
  securityPath: string
}

export interface EndToEndResult extends Verification {
  events: number
  organizations: number
  /** Deliveries accepted (bulk deliveries in the seed scenario). */
  deliveries: number
  /** (delivery, destination) pairs verified. */
  pairs: number
  /** Seconds until the last request was answered. */
  sendSeconds: number
  deliveriesPerSecond: number
  /** Requests or items the service refused (none expected). */
  refused: number
}

async function createTenants(ctx: BenchContext, prefix: string): Promise<E2ETenant[]> {
  const tenants: E2ETenant[] = []
  for (let i = 0; i < ctx.options.organizations; i++) {
    const tenant = await ctx.service.createTenant(`${prefix}-${i}`, ctx.options.maxInFlight)
    const hookPath = `/hooks/${tenant.organizationId}/audit`
    const securityPath = `/hooks/${tenant.organizationId}/security`
    const hook = await ctx.service.createWebhook(tenant, {
      label: 'audit-webhook',
      url: `${ctx.receiver.url}${hookPath}`,
      isDefault: true,
    })
    const security = await ctx.service.createWebhook(tenant, {
      label: 'security-webhook',
      url: `${ctx.receiver.url}${securityPath}`,
    })
    const r2 = await ctx.service.createR2(tenant, { label: 'audit-archive', isDefault: true })
    ctx.receiver.register(hookPath, hook.secret)
    ctx.receiver.register(securityPath, security.secret)
    tenants.push({ ...tenant, hookPath, hookId: hook.id, r2Id: r2.id, securityPath })
  }
  return tenants
}

/** Runs `work` over `items` with at most `limit` at once. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T
      await work(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

async function post(ctx: BenchContext, tenant: Tenant, path: string, body: unknown) {
  const response = await fetch(`${ctx.service.baseUrl}${path}`, {
    signal: AbortSignal.timeout(120_000),
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

function expectationsFor(
  ctx: BenchContext,
  tenants: E2ETenant[],
  sent: Map<string, { all: Set<string>; security: Set<string> }>,
): Expectation[] {
  return tenants.flatMap((tenant) => {
    const ids = sent.get(tenant.organizationId) ?? { all: new Set(), security: new Set() }
    // The service writes R2 destinations' objects under the organization's storage prefix.
    const prefix = `orgs/${tenant.organizationId}/storage/`
    const expectations: Expectation[] = [
      {
        name: `${tenant.organizationId} webhook`,
        expected: ids.all,
        count: () => ctx.receiver.delivered(tenant.hookPath).size,
        seen: () => ctx.receiver.delivered(tenant.hookPath),
      },
      {
        name: `${tenant.organizationId} r2`,
        expected: ids.all,
        count: () => r2ObjectCount(ctx.persistTo, prefix),
        seen: () => r2DeliveryIds(ctx.persistTo, prefix),
      },
    ]
    if (ids.security.size > 0)
      expectations.push({
        name: `${tenant.organizationId} security webhook`,
        expected: ids.security,
        count: () => ctx.receiver.delivered(tenant.securityPath).size,
        seen: () => ctx.receiver.delivered(tenant.securityPath),
      })
    return expectations
  })
}

/** Asks the service about deliveries the receivers never saw, to tell slow from stuck. */
async function diagnose(
  ctx: BenchContext,
  tenants: E2ETenant[],
  expectations: Expectation[],
): Promise<Record<string, number>> {
  const states: Record<string, number> = {}
  let asked = 0
  for (const expectation of expectations) {
    const tenant = tenants.find((t) => expectation.name.startsWith(`${t.organizationId} `))
    const seen = expectation.seen()
    for (const id of expectation.expected) {
      if (seen.has(id) || !tenant || asked >= 50) continue
      asked += 1
      const view = await ctx.service
        .call('GET', `/v1/deliveries/${id}`, tenant.apiKey)
        .catch((error: Error) => ({ json: { error: error.message } }))
      const destinations = (view.json as { destinations?: { type: string; status: string }[] })
        ?.destinations
      if (!destinations) states['no answer'] = (states['no answer'] ?? 0) + 1
      for (const d of destinations ?? []) {
        const key = `${d.type} ${d.status}`
        states[key] = (states[key] ?? 0) + 1
      }
    }
  }
  return states
}

function summarize(
  verification: Verification,
  counts: {
    events: number
    organizations: number
    deliveries: number
    sendSeconds: number
    refused: number
  },
): EndToEndResult {
  return {
    ...verification,
    ...counts,
    pairs: verification.expected - verification.missing,
    deliveriesPerSecond: Math.round((counts.deliveries / verification.seconds) * 10) / 10,
  }
}

/** The seed's high-volume scenario. */
export async function runSeedScenario(ctx: BenchContext): Promise<EndToEndResult> {
  const tenants = await createTenants(ctx, 'seed-org')
  const sent = new Map(
    tenants.map((t) => [t.organizationId, { all: new Set<string>(), security: new Set<string>() }]),
  )
  let refused = 0
  const started = performance.now()
  for (let first = 0; first < ctx.options.events; first += 1000) {
    const batch: StreamEvent[] = []
    for (let i = first; i < Math.min(first + 1000, ctx.options.events); i++)
      batch.push(streamEvent(i, ctx.options.organizations))
    // As the seed: organizations in parallel, each organization's groups one after another.
    const byOrganization = Map.groupBy(batch, (event) => event.organization)
    await Promise.all(
      [...byOrganization].map(async ([index, events]) => {
        const tenant = tenants[index] as E2ETenant
        const groups = Map.groupBy(events, (event) => destinationsFor(event).sort().join(','))
        for (const [key, grouped] of groups) {
          const destinations = key.split(',')
          const response = await post(ctx, tenant, '/v1/deliveries', {
            destinations,
            payload: {
              type: 'bulk-audit-events',
              data: {
                eventCount: grouped.length,
                events: grouped.map((event) => individualDelivery(event, []).payload.data),
                batchId: `batch-${first}-${tenant.organizationId}-${key}`,
                processedAt: new Date().toISOString(),
              },
              metadata: {
                batchSize: grouped.length,
                organizationId: tenant.organizationId,
                eventTypes: [...new Set(grouped.map((event) => event.type))],
              },
            },
            options: {
              priority: Math.max(...grouped.map(priorityOf)),
              correlationId: `bulk-${tenant.organizationId}-${first}`,
              tags: ['bulk-delivery', 'high-volume', ...new Set(grouped.map((e) => e.type))],
            },
          })
          if (response.status !== 202) {
            refused += 1
            continue
          }
          const id = response.json.deliveryId as string
          const ids = sent.get(tenant.organizationId)
          ids?.all.add(id)
          if (destinations.includes('security-webhook')) ids?.security.add(id)
        }
      }),
    )
  }
  const sendSeconds = Math.round((performance.now() - started) / 10) / 100
  const deliveries = [...sent.values()].reduce((n, ids) => n + ids.all.size, 0)
  ctx.log(`seed scenario: ${deliveries} bulk deliveries sent in ${sendSeconds} s; verifying`)
  const expectations = expectationsFor(ctx, tenants, sent)
  const verification = await waitForArrivals(
    expectations,
    started,
    ctx.options.timeoutSeconds * 1000,
    (arrived, expected) => ctx.log(`  ${arrived}/${expected} pairs arrived`),
  )
  if (!verification.complete)
    verification.missingStates = await diagnose(ctx, tenants, expectations)
  return summarize(verification, {
    events: ctx.options.events,
    organizations: tenants.length,
    deliveries,
    sendSeconds,
    refused,
  })
}

/** Individual deliveries through the batch route, each to a webhook and to R2. */
export async function runIndividualDeliveries(
  ctx: BenchContext,
  options: { deliveries: number; prefix: string },
): Promise<EndToEndResult> {
  const tenants = await createTenants(ctx, options.prefix)
  const sent = new Map(
    tenants.map((t) => [t.organizationId, { all: new Set<string>(), security: new Set<string>() }]),
  )
  const requests: { tenant: E2ETenant; first: number; size: number }[] = []
  // Round-robin over organizations, 1,000 deliveries per request.
  for (let first = 0; first < options.deliveries; first += 1000)
    requests.push({
      tenant: tenants[(first / 1000) % tenants.length] as E2ETenant,
      first,
      size: Math.min(1000, options.deliveries - first),
    })
  let refused = 0
  const started = performance.now()
  await inParallel(requests, ctx.options.sendConcurrency, async ({ tenant, first, size }) => {
    const deliveries = Array.from({ length: size }, (_, i) =>
      individualDelivery(streamEvent(first + i, 1), [tenant.hookId, tenant.r2Id]),
    )
    const response = await post(ctx, tenant, '/v1/deliveries/batch', { deliveries })
    if (response.status !== 200) {
      refused += size
      return
    }
    for (const result of response.json.results as { status: string; deliveryId?: string }[]) {
      if (result.status === 'accepted' && result.deliveryId)
        sent.get(tenant.organizationId)?.all.add(result.deliveryId)
      else refused += 1
    }
  })
  const sendSeconds = Math.round((performance.now() - started) / 10) / 100
  ctx.log(`${options.prefix}: ${options.deliveries} deliveries sent in ${sendSeconds} s; verifying`)
  const expectations = expectationsFor(ctx, tenants, sent)
  const verification = await waitForArrivals(
    expectations,
    started,
    ctx.options.timeoutSeconds * 1000,
    (arrived, expected) => ctx.log(`  ${arrived}/${expected} pairs arrived`),
  )
  if (!verification.complete)
    verification.missingStates = await diagnose(ctx, tenants, expectations)
  return summarize(verification, {
    events: options.deliveries,
    organizations: tenants.length,
    deliveries: [...sent.values()].reduce((n, ids) => n + ids.all.size, 0),
    sendSeconds,
    refused,
  })
}
