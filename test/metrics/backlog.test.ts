import { describe, expect, it } from 'vitest'
import { call, createTenant } from '../support/api'
import {
  createWebhookDestination,
  injectFault,
  seedDelivery,
  waitForDelivery,
} from '../support/delivery-helpers'
import { pollMetrics } from '../support/metrics-helpers'

/**
 * The receiver stalls the first request for a while, so the other deliveries wait in the
 * outbox: behind a full in-flight window (queued) or behind an earlier delivery under
 * strict ordering (held).
 */
async function stalledBacklog(delivery: Record<string, unknown>) {
  const tenant = await createTenant('backlog')
  const hook = await createWebhookDestination(tenant.apiKey, { delivery })
  await injectFault(hook.path, { mode: 'hang', ms: 2500 })
  const accepted = await call('/v1/deliveries/batch', {
    token: tenant.apiKey,
    body: { deliveries: [seedDelivery(hook.id), seedDelivery(hook.id), seedDelivery(hook.id)] },
  })
  expect(accepted.status).toBe(200)
  const body = await pollMetrics(
    tenant.apiKey,
    `/v1/metrics?destinationId=${hook.id}`,
    (b) => b.backlog[0]?.delivering === 1,
  )
  const ids = accepted.json.results.map((r: { deliveryId: string }) => r.deliveryId)
  return { tenant, hook, backlog: body.backlog, ids }
}

describe('backlog in GET /v1/metrics', () => {
  it('Should count work behind a full in-flight window as queued', async () => {
    const { tenant, hook, backlog, ids } = await stalledBacklog({ maxConcurrency: 1 })
    expect(backlog).toEqual([
      {
        destinationId: hook.id,
        destinationType: 'webhook',
        label: `hook ${hook.path}`,
        queued: 2,
        held: 0,
        retrying: 0,
        delivering: 1,
        oldestAgeMs: expect.any(Number),
      },
    ])
    expect(backlog[0].oldestAgeMs).toBeGreaterThanOrEqual(0)
    for (const id of ids) await waitForDelivery(tenant.apiKey, id)
  })

  it('Should count work waiting behind an earlier delivery in strict order as held', async () => {
    const { tenant, hook, backlog, ids } = await stalledBacklog({ ordering: 'strict' })
    expect(backlog).toEqual([
      {
        destinationId: hook.id,
        destinationType: 'webhook',
        label: `hook ${hook.path}`,
        queued: 0,
        held: 2,
        retrying: 0,
        delivering: 1,
        oldestAgeMs: expect.any(Number),
      },
    ])
    for (const id of ids) await waitForDelivery(tenant.apiKey, id)
    const settled = await call(`/v1/metrics?destinationId=${hook.id}`, { token: tenant.apiKey })
    expect(settled.json.backlog[0]).toMatchObject({
      queued: 0,
      held: 0,
      retrying: 0,
      delivering: 0,
      oldestAgeMs: null,
    })
  })
})
