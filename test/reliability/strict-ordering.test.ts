import { describe, expect, it } from 'vitest'
import { call, createTenant } from '../support/api'
import {
  createWebhookDestination,
  injectFault,
  receivedAt,
  seedDelivery,
  waitForDelivery,
} from '../support/delivery-helpers'
import { deliveryView, putSettings } from '../support/reliability'

/** Accepts one delivery per priority in one batch; answers their ids in sequence order. */
async function acceptInOrder(apiKey: string, destinationId: string, priorities: number[]) {
  const response = await call('/v1/deliveries/batch', {
    token: apiKey,
    body: {
      deliveries: priorities.map((priority) =>
        seedDelivery(destinationId, { options: { priority } }),
      ),
    },
  })
  expect(response.status).toBe(200)
  return response.json.results.map((result: { deliveryId: string }) => result.deliveryId)
}

/** The organization sequence number of each request the receiver got, in arrival order. */
async function sequencesReceived(path: string): Promise<number[]> {
  return (await receivedAt(path)).map((request) => JSON.parse(request.body).sequence)
}

async function strictDestination(onExhausted: 'wait' | 'skip', maxAttempts: number) {
  const tenant = await createTenant('order')
  await putSettings(tenant.apiKey, { retry: { maxAttempts, baseDelay: 100, maxDelay: 200 } })
  const hook = await createWebhookDestination(tenant.apiKey, {
    delivery: { ordering: 'strict', onExhausted },
  })
  return { tenant, hook }
}

describe('strict ordering', () => {
  it('Should deliver in sequence order, one in flight at a time, through retries and failures, ahead of priority', async () => {
    const { tenant, hook } = await strictDestination('skip', 5)
    await injectFault(hook.path, { mode: 'status', status: 500, times: 2 })
    await injectFault(hook.path, { mode: 'hang', ms: 600 })
    await injectFault(hook.path, { mode: 'drop' })
    // Priorities 10 and 9 would go first on a parallel destination (and through the fast queue).
    const ids = await acceptInOrder(tenant.apiKey, hook.id, [1, 5, 10, 0, 9])
    for (const id of ids) await waitForDelivery(tenant.apiKey, id)

    const requests = await receivedAt(hook.path)
    expect(await sequencesReceived(hook.path)).toEqual([1, 1, 1, 2, 2, 3, 4, 5])
    expect(requests.map((r) => r.status)).toEqual([500, 500, null, null, 200, 200, 200, 200])
    // The slow answer to sequence 1 held everything behind it.
    expect(
      Date.parse(requests[3].receivedAt) - Date.parse(requests[2].receivedAt),
    ).toBeGreaterThanOrEqual(600)
    for (const id of ids) {
      expect((await deliveryView(tenant.apiKey, id)).status).toBe('delivered')
    }
  })

  it('Should skip a delivery whose retries are spent and go on in order when the destination says skip', async () => {
    const { tenant, hook } = await strictDestination('skip', 2)
    await injectFault(hook.path, { mode: 'status', status: 503, times: 2 })
    const [first, second, third] = await acceptInOrder(tenant.apiKey, hook.id, [5, 5, 5])
    await waitForDelivery(tenant.apiKey, third)

    expect((await deliveryView(tenant.apiKey, first)).destinations[0]).toMatchObject({
      status: 'failed',
      reason: 'retries_exhausted',
      attempts: 2,
      lastError: { code: 'http_503' },
    })
    expect((await deliveryView(tenant.apiKey, second)).status).toBe('delivered')
    expect(await sequencesReceived(hook.path)).toEqual([1, 1, 2, 3])
  })

  it('Should hold the line behind a delivery whose retries are spent when the destination says wait', async () => {
    const { tenant, hook } = await strictDestination('wait', 2)
    await injectFault(hook.path, { mode: 'status', status: 503, times: 2 })
    const [first, second, third] = await acceptInOrder(tenant.apiKey, hook.id, [5, 5, 5])
    await waitForDelivery(tenant.apiKey, first)
    await new Promise((resolve) => setTimeout(resolve, 500))

    expect((await deliveryView(tenant.apiKey, first)).destinations[0]).toMatchObject({
      status: 'failed',
      reason: 'retries_exhausted',
    })
    for (const id of [second, third]) {
      expect((await deliveryView(tenant.apiKey, id)).destinations[0]).toMatchObject({
        status: 'held',
        reason: 'waiting_for_earlier_delivery',
        attempts: 0,
      })
    }
    expect(await sequencesReceived(hook.path)).toEqual([1, 1])

    // Once the failed one is retried and delivered, the line moves on, still in order.
    const retried = await call(`/v1/deliveries/${first}/retry`, {
      method: 'POST',
      token: tenant.apiKey,
    })
    expect(retried.status).toBe(200)
    await waitForDelivery(tenant.apiKey, third)
    expect(await sequencesReceived(hook.path)).toEqual([1, 1, 1, 2, 3])
    for (const id of [first, second, third]) {
      expect((await deliveryView(tenant.apiKey, id)).status).toBe('delivered')
    }
  })
})
