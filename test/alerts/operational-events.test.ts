import { describe, expect, it } from 'vitest'
import { call, createTenant } from '../support/api'
import {
  createWebhookDestination,
  injectFault,
  receivedAt,
  seedDelivery,
  waitForDelivery,
} from '../support/delivery-helpers'
import { pollMetrics } from '../support/metrics-helpers'

type Tenant = Awaited<ReturnType<typeof createTenant>>

/** Polls the receiver until requests of `type` arrived at `path`; returns their bodies. */
async function eventsAt(path: string, type: string, count: number) {
  const deadline = Date.now() + 15_000
  // biome-ignore lint/suspicious/noExplicitAny: envelopes are plain JSON
  let events: any[] = []
  while (Date.now() < deadline) {
    events = (await receivedAt(path))
      .map((request) => JSON.parse(request.body))
      .filter((event) => event.type === type)
    if (events.length >= count) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  expect(events).toHaveLength(count)
  return events
}

async function withAlertDestination(tenant: Tenant, settings: Record<string, unknown>) {
  const oncall = await createWebhookDestination(tenant.apiKey, { label: 'operations' })
  const response = await call('/v1/settings', {
    method: 'PUT',
    token: tenant.apiKey,
    body: { ...settings, security: { alertDestinationId: oncall.id } },
  })
  expect(response.status).toBe(200)
  return oncall
}

describe("operational events to the organization's alert destination", () => {
  it('Should report a delivery that exhausted its retries, with its last error', async () => {
    const tenant = await createTenant('ops')
    const oncall = await withAlertDestination(tenant, {
      retry: { maxAttempts: 2, baseDelay: 100, maxDelay: 100 },
    })
    const hook = await createWebhookDestination(tenant.apiKey)
    await injectFault(hook.path, { mode: 'status', status: 500, times: 2 })
    const accepted = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id),
    })
    expect((await waitForDelivery(tenant.apiKey, accepted.json.deliveryId)).status).toBe('failed')

    const [event] = await eventsAt(oncall.path, 'operational.delivery_failed', 1)
    expect(event.data).toEqual({
      organizationId: tenant.organizationId,
      deliveryId: accepted.json.deliveryId,
      destinationId: hook.id,
      lastError: { code: 'http_500', message: expect.any(String), httpStatus: 500 },
      at: expect.any(String),
    })
    // The operational event is itself a delivery: counted like any other.
    const metrics = await pollMetrics(
      tenant.apiKey,
      `/v1/metrics?destinationId=${oncall.id}`,
      (body) => body.totals.delivered === 1,
    )
    expect(metrics.totals).toEqual({
      accepted: 1,
      delivered: 1,
      failed: 0,
      retried: 0,
      attempts: 1,
    })
  })

  it('Should report a destination that recovers after its circuit opened', async () => {
    const tenant = await createTenant('ops')
    const oncall = await withAlertDestination(tenant, {
      retry: { maxAttempts: 5, baseDelay: 100, maxDelay: 100 },
      health: { failureThreshold: 1, cooldownMs: 1000 },
    })
    const hook = await createWebhookDestination(tenant.apiKey)
    await injectFault(hook.path, { mode: 'status', status: 503 })
    const accepted = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id),
    })
    const settled = await waitForDelivery(
      tenant.apiKey,
      accepted.json.deliveryId,
      (view) => view.status === 'delivered',
    )
    expect(settled.destinations[0].attempts).toBe(2)
    const [event] = await eventsAt(oncall.path, 'operational.destination_recovered', 1)
    expect(event.data).toEqual({
      organizationId: tenant.organizationId,
      destinationId: hook.id,
      at: expect.any(String),
    })
  })
})
