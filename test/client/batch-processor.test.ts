import { exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import {
  BatchDeliveryProcessor,
  createDeliveryService,
  DeliveryServiceError,
} from '../../src/client/index.ts'
import { createTenant } from '../support/api'
import { createWebhookDestination } from '../support/delivery-helpers'
import { type RecordedCall, SERVICE_URL, serviceClient } from './harness'

const item = (destination: string, n: number, organizationId?: string) => ({
  ...(organizationId ? { organizationId } : {}),
  destinations: destination,
  payload: { type: 'bulk-audit-events', data: { n } },
})

const batchCalls = (calls: RecordedCall[]) =>
  calls.filter((call) => call.path === '/v1/deliveries/batch').length

describe('BatchDeliveryProcessor', () => {
  it('Should send a full batch at once and resolve each item with its own receipt', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const calls: RecordedCall[] = []
    const processor = new BatchDeliveryProcessor(serviceClient({ apiKey: tenant.apiKey }, calls), {
      maxBatchSize: 3,
      flushIntervalMs: 60_000,
    })
    const receipts = await Promise.all([1, 2, 3].map((n) => processor.addToBatch(item(hook.id, n))))
    expect(receipts).toEqual(
      [1, 2, 3].map((sequence) => ({
        organizationId: null,
        status: 'accepted',
        deliveryId: expect.stringMatching(/^dlv_/),
        sequence,
      })),
    )
    expect(batchCalls(calls)).toBe(1)
    expect(processor.stats()).toEqual({
      pending: 0,
      inFlightBatches: 0,
      batchesSent: 1,
      itemsAccepted: 3,
      itemsRejected: 0,
      peakInFlightBatches: 1,
    })
  })

  it('Should send a partial batch once its oldest item has waited flushIntervalMs', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const calls: RecordedCall[] = []
    const processor = new BatchDeliveryProcessor(serviceClient({ apiKey: tenant.apiKey }, calls), {
      flushIntervalMs: 20,
    })
    const started = Date.now()
    const receipts = await Promise.all([
      processor.addToBatch(item(hook.id, 1)),
      processor.addToBatch(item(hook.id, 2)),
    ])
    expect(Date.now() - started).toBeGreaterThanOrEqual(20)
    expect(receipts.map((receipt) => receipt.sequence)).toEqual([1, 2])
    expect(batchCalls(calls)).toBe(1)
  })

  it("Should reject only the item the service rejected, with the item's code and status", async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const processor = new BatchDeliveryProcessor(serviceClient({ apiKey: tenant.apiKey }), {
      flushIntervalMs: 10,
    })
    const [good, bad] = await Promise.allSettled([
      processor.addToBatch(item(hook.id, 1)),
      processor.addToBatch(item('no-such-destination', 2)),
    ])
    expect(good).toMatchObject({ status: 'fulfilled', value: { status: 'accepted', sequence: 1 } })
    expect(bad.status).toBe('rejected')
    const error = (bad as PromiseRejectedResult).reason
    expect(error).toBeInstanceOf(DeliveryServiceError)
    expect(error).toMatchObject({ status: 422, code: 'destination_not_found' })
    expect(processor.stats()).toMatchObject({ itemsAccepted: 1, itemsRejected: 1 })
  })

  it('Should reject every item of a batch the service refused as a whole', async () => {
    const processor = new BatchDeliveryProcessor(
      serviceClient({ apiKey: 'dsk_nobody_abcdefghijklmnopqrst_00' }),
      { flushIntervalMs: 10 },
    )
    const results = await Promise.allSettled([
      processor.addToBatch(item('x', 1)),
      processor.addToBatch(item('x', 2)),
    ])
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected'])
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({
      status: 401,
      code: 'unauthorized',
    })
  })

  it('Should send each organization its own batch through a multi-tenant client', async () => {
    const first = await createTenant('first')
    const second = await createTenant('second')
    const firstHook = await createWebhookDestination(first.apiKey)
    const secondHook = await createWebhookDestination(second.apiKey)
    const calls: RecordedCall[] = []
    const client = serviceClient(
      { apiKeys: { [first.organizationId]: first.apiKey, [second.organizationId]: second.apiKey } },
      calls,
    )
    const processor = new BatchDeliveryProcessor(client, { flushIntervalMs: 10 })
    const receipts = await Promise.all([
      processor.addToBatch(item(firstHook.id, 1, first.organizationId)),
      processor.addToBatch(item(secondHook.id, 1, second.organizationId)),
      processor.addToBatch(item(firstHook.id, 2, first.organizationId)),
    ])
    expect(receipts.map((receipt) => [receipt.organizationId, receipt.sequence])).toEqual([
      [first.organizationId, 1],
      [second.organizationId, 1],
      [first.organizationId, 2],
    ])
    expect(batchCalls(calls)).toBe(2)
  })

  it('Should keep at most maxInFlightBatches requests and maxPendingItems items at once', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    let active = 0
    let peak = 0
    const pendingSeen: number[] = []
    let processor: BatchDeliveryProcessor | null = null
    const client = createDeliveryService({
      baseUrl: SERVICE_URL,
      apiKey: tenant.apiKey,
      fetch: async (request) => {
        active += 1
        peak = Math.max(peak, active)
        pendingSeen.push(processor?.stats().pending ?? 0)
        // Holding each request a little lets the producer run ahead if nothing stops it.
        await new Promise((resolve) => setTimeout(resolve, 15))
        try {
          return await exports.default.fetch(request)
        } finally {
          active -= 1
        }
      },
    })
    processor = new BatchDeliveryProcessor(client, {
      maxBatchSize: 2,
      flushIntervalMs: 0,
      maxInFlightBatches: 2,
      maxPendingItems: 4,
    })
    const receipts = await Promise.all(
      Array.from(
        { length: 12 },
        (_, n) => processor?.addToBatch(item(hook.id, n)) as Promise<unknown>,
      ),
    )
    expect(receipts).toHaveLength(12)
    expect(peak).toBe(2)
    expect(Math.max(...pendingSeen)).toBeLessThanOrEqual(4)
    expect(processor.stats()).toMatchObject({
      pending: 0,
      itemsAccepted: 12,
      peakInFlightBatches: 2,
    })
  })

  it('Should send what is buffered on flush() and wait for it', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const processor = new BatchDeliveryProcessor(serviceClient({ apiKey: tenant.apiKey }), {
      flushIntervalMs: 60_000,
    })
    const pending = processor.addToBatch(item(hook.id, 1))
    await processor.flush()
    expect(processor.stats()).toMatchObject({ pending: 0, batchesSent: 1, itemsAccepted: 1 })
    await expect(pending).resolves.toMatchObject({ status: 'accepted', sequence: 1 })
  })

  it('Should refuse a batch size above the API limit of 1,000', () => {
    expect(() => new BatchDeliveryProcessor(serviceClient(), { maxBatchSize: 1001 })).toThrow(
      new RangeError("maxBatchSize must be at most 1000, the API's limit"),
    )
  })
})
