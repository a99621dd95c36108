import { describe, expect, it } from 'vitest'
import type { Outbox } from '../../src/durable-objects/organization/outbox'
import { call, createTenant } from '../support/api'
import {
  createWebhookDestination,
  injectFault,
  receivedAt,
  seedDelivery,
  waitForDelivery,
} from '../support/delivery-helpers'
import { eventually, insideOrganization, putSettings } from '../support/reliability'

/** The most requests that were open at once, each held open by the receiver for `holdMs`. */
function maxInFlight(arrivals: number[], holdMs: number): number {
  return Math.max(...arrivals.map((t) => arrivals.filter((u) => u <= t && u > t - holdMs).length))
}

/** The most arrivals within any window of `windowMs`. */
function maxInWindow(arrivals: number[], windowMs: number): number {
  return Math.max(...arrivals.map((t) => arrivals.filter((u) => u >= t && u < t + windowMs).length))
}

async function acceptMany(apiKey: string, destinationId: string, count: number) {
  const response = await call('/v1/deliveries/batch', {
    token: apiKey,
    body: { deliveries: Array.from({ length: count }, () => seedDelivery(destinationId)) },
  })
  expect(response.status).toBe(200)
  return response.json.results as Array<{ status: string; deliveryId?: string; error?: unknown }>
}

async function arrivalsAt(path: string): Promise<number[]> {
  return (await receivedAt(path)).map((request) => Date.parse(request.receivedAt))
}

describe('ingest rate limit, held by the organization object', () => {
  it('Should accept exactly the burst, refuse the next with 429 and Retry-After, and accept again after it', async () => {
    const tenant = await createTenant('limits')
    await putSettings(tenant.apiKey, { limits: { ingestPerSecond: 1, ingestBurst: 5 } })
    const hook = await createWebhookDestination(tenant.apiKey)

    const results = await acceptMany(tenant.apiKey, hook.id, 6)
    expect(results.map((r) => r.status)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'accepted',
      'accepted',
      'rejected',
    ])
    expect(results[5]).toEqual({
      index: 5,
      status: 'rejected',
      error: { code: 'rate_limited', message: "The organization's ingest rate limit is exhausted" },
    })

    const refused = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id),
    })
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(refused.json).toEqual({
      error: {
        code: 'rate_limited',
        message: "The organization's ingest rate limit is exhausted",
        requestId: refused.headers.get('x-request-id'),
      },
    })

    await new Promise((resolve) =>
      setTimeout(resolve, 1000 * Number(refused.headers.get('retry-after'))),
    )
    const admitted = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id),
    })
    expect(admitted.status).toBe(202)
    // Refused deliveries took no sequence number.
    expect(admitted.json.sequence).toBe(6)
  })

  it("Should keep each organization's limit to itself", async () => {
    const limited = await createTenant('limits')
    const other = await createTenant('limits')
    await putSettings(limited.apiKey, { limits: { ingestPerSecond: 1, ingestBurst: 1 } })
    const limitedHook = await createWebhookDestination(limited.apiKey)
    const otherHook = await createWebhookDestination(other.apiKey)
    expect((await acceptMany(limited.apiKey, limitedHook.id, 2)).map((r) => r.status)).toEqual([
      'accepted',
      'rejected',
    ])
    expect(
      (await acceptMany(other.apiKey, otherHook.id, 20)).every((r) => r.status === 'accepted'),
    ).toBe(true)
  })
})

describe('per-destination limits', () => {
  const HOLD_MS = 1000

  it("Should never have more requests open at a receiver than the destination's maxConcurrency", async () => {
    const tenant = await createTenant('limits')
    const hook = await createWebhookDestination(tenant.apiKey, { delivery: { maxConcurrency: 2 } })
    await injectFault(hook.path, { mode: 'hang', ms: HOLD_MS, times: 6 })
    const results = await acceptMany(tenant.apiKey, hook.id, 6)
    for (const { deliveryId } of results) await waitForDelivery(tenant.apiKey, deliveryId as string)

    const arrivals = await arrivalsAt(hook.path)
    expect(arrivals).toHaveLength(6)
    expect(maxInFlight(arrivals, HOLD_MS)).toBe(2)
  })

  it("Should apply the organization's in-flight limit to a destination without its own", async () => {
    const tenant = await createTenant('limits')
    await putSettings(tenant.apiKey, { limits: { maxInFlightPerDestination: 3 } })
    const hook = await createWebhookDestination(tenant.apiKey)
    await injectFault(hook.path, { mode: 'hang', ms: HOLD_MS, times: 7 })
    const results = await acceptMany(tenant.apiKey, hook.id, 7)
    for (const { deliveryId } of results) await waitForDelivery(tenant.apiKey, deliveryId as string)

    const arrivals = await arrivalsAt(hook.path)
    expect(arrivals).toHaveLength(7)
    expect(maxInFlight(arrivals, HOLD_MS)).toBe(3)
  })

  it("Should pace requests to the destination's ratePerSecond", async () => {
    const tenant = await createTenant('limits')
    const hook = await createWebhookDestination(tenant.apiKey, { delivery: { ratePerSecond: 2 } })
    const results = await acceptMany(tenant.apiKey, hook.id, 8)
    for (const { deliveryId } of results) await waitForDelivery(tenant.apiKey, deliveryId as string)

    const arrivals = (await arrivalsAt(hook.path)).sort((a, b) => a - b)
    expect(arrivals).toHaveLength(8)
    // A bucket of 2 tokens refilled at 2 per second: 2 at once, then one every 500 ms.
    // Queue latency can bunch arrivals a little, never spread them less than the releases.
    expect((arrivals[7] as number) - (arrivals[0] as number)).toBeGreaterThanOrEqual(2700)
    expect(maxInWindow(arrivals, 1000)).toBeLessThanOrEqual(4)
  })

  it('Should not poll a strict, rate-limited destination while its one request is out', async () => {
    const tenant = await createTenant('limits')
    const hook = await createWebhookDestination(tenant.apiKey, {
      delivery: { ordering: 'strict', ratePerSecond: 5 },
    })
    await injectFault(hook.path, { mode: 'hang', ms: 2000, times: 1 })
    let releases = 0
    await insideOrganization(tenant.organizationId, (instance) => {
      const outbox = (instance as unknown as { outbox: Outbox }).outbox
      const release = outbox.release.bind(outbox)
      outbox.release = (...args) => {
        releases++
        return release(...args)
      }
    })
    const results = await acceptMany(tenant.apiKey, hook.id, 3)
    await eventually(
      'the first request to be out',
      async () => (await arrivalsAt(hook.path)).length === 1,
    )
    const before = releases
    await new Promise((resolve) => setTimeout(resolve, 1000))
    // Its report releases the next one; nothing else has anything to do meanwhile.
    expect(releases - before).toBeLessThanOrEqual(1)
    for (const { deliveryId } of results) await waitForDelivery(tenant.apiKey, deliveryId as string)
  })

  it('Should leave the alarm set for a throttled destination when more work for it arrives', async () => {
    const tenant = await createTenant('limits')
    const hook = await createWebhookDestination(tenant.apiKey, { delivery: { ratePerSecond: 1 } })
    const first = await acceptMany(tenant.apiKey, hook.id, 4)
    const alarm = () =>
      insideOrganization(tenant.organizationId, (_instance, _sql, state) =>
        state.storage.getAlarm(),
      )
    // The first delivery takes the only token; the alarm then waits for the next one.
    await eventually('the alarm to wait for a token', async () => {
      const at = await alarm()
      return at !== null && at > Date.now() ? at : undefined
    })
    let compared = false
    for (let tries = 0; tries < 5 && !compared; tries++) {
      const before = await alarm()
      await acceptMany(tenant.apiKey, hook.id, 1)
      const after = await alarm()
      // Only conclusive when the alarm set before could not have fired in between.
      if (before === null || Date.now() >= before) continue
      expect(after).toBe(before)
      compared = true
    }
    expect(compared).toBe(true)
    for (const { deliveryId } of first) await waitForDelivery(tenant.apiKey, deliveryId as string)
  })
})
