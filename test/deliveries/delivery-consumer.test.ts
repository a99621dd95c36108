import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AttemptMessage } from '../../src/delivery/messages'
import { createTenant } from '../support/api'
import {
  createWebhookDestination,
  injectFault,
  receivedAt,
  seedDelivery,
} from '../support/delivery-helpers'
import { batchOf, captureReleases, consume, stopCapturing } from '../support/queue-consumer'
import { deliver, eventually, FAST_RETRY, putSettings } from '../support/reliability'

afterEach(() => {
  vi.restoreAllMocks()
})

/** The JSON log lines written through one console method, parsed. */
function linesOf(spy: { mock: { calls: unknown[][] } }): Record<string, unknown>[] {
  return spy.mock.calls
    .map((args) => String(args[0]))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

/** One delivery to two fresh webhooks, its two messages captured instead of queued. */
async function twoDestinationRelease(fault?: Record<string, unknown>) {
  const tenant = await createTenant('consumer')
  await putSettings(tenant.apiKey, { retry: FAST_RETRY })
  const good = await createWebhookDestination(tenant.apiKey)
  const bad = await createWebhookDestination(tenant.apiKey)
  if (fault) await injectFault(bad.path, fault)
  const captured = await captureReleases(tenant.organizationId)
  const accepted = await deliver(tenant.apiKey, seedDelivery([good.id, bad.id]))
  await eventually('two releases', async () => captured.length === 2)
  const messages = [...captured]
  captured.length = 0
  return { tenant, good, bad, accepted, messages, captured }
}

describe('delivery consumer logs', () => {
  it('Should sum up a batch in one line and log each attempt that did not deliver on its own', async () => {
    const { tenant, good, bad, accepted, messages } = await twoDestinationRelease({
      mode: 'status',
      status: 500,
      body: 'upstream broke',
    })
    await stopCapturing(tenant.organizationId)
    const info = vi.spyOn(console, 'log')
    const warn = vi.spyOn(console, 'warn')

    const result = await consume(batchOf('audit-deliveries', messages))
    expect(result.explicitAcks).toHaveLength(2)

    const summaries = linesOf(info).filter((line) => line.event === 'delivery_batch')
    expect(summaries).toEqual([
      {
        time: expect.any(String),
        level: 'info',
        event: 'delivery_batch',
        queue: 'audit-deliveries',
        messages: 2,
        delivered: 1,
        retryable: 1,
        permanent: 0,
        organizations: 1,
        unrecorded: 0,
        durationMs: expect.any(Number),
      },
    ])
    const attempts = [...linesOf(info), ...linesOf(warn)].filter(
      (line) => line.event === 'delivery_attempt',
    )
    expect(attempts).toEqual([
      {
        time: expect.any(String),
        level: 'warn',
        event: 'delivery_attempt',
        requestId: expect.stringMatching(/^req_/),
        organizationId: tenant.organizationId,
        deliveryId: accepted.deliveryId,
        destinationId: bad.id,
        attempt: 1,
        outcome: 'retryable',
        code: 'http_500',
        status: 500,
        durationMs: expect.any(Number),
      },
    ])
    expect(await receivedAt(good.path)).toHaveLength(1)
  })

  it('Should count a batch whose results could not be recorded as unrecorded', async () => {
    const { tenant, messages } = await twoDestinationRelease()
    await stopCapturing(tenant.organizationId)
    const info = vi.spyOn(console, 'log')
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const unreachable = {
      ...env,
      ORGANIZATIONS: {
        idFromName: (name: string) => env.ORGANIZATIONS.idFromName(name),
        get: () => ({
          recordAttempts: async () => {
            throw new Error('Network connection lost.')
          },
        }),
      },
    } as unknown as typeof env

    const result = await consume(batchOf('audit-deliveries', messages), unreachable)
    expect(result.retryMessages).toHaveLength(2)
    const summary = linesOf(info).find((line) => line.event === 'delivery_batch')
    expect(summary).toMatchObject({ messages: 2, delivered: 2, unrecorded: 2, organizations: 1 })
  })
})

describe('delivery consumer payloads', () => {
  it("Should open a delivery's sealed payload once for all of its destinations in a batch", async () => {
    const { tenant, good, bad, messages, captured } = await twoDestinationRelease()
    // A first batch loads both destinations (opening their stored secrets) into the cache.
    await consume(batchOf('audit-deliveries', messages))
    const second = await deliver(tenant.apiKey, seedDelivery([good.id, bad.id]))
    await eventually('two more releases', async () => captured.length === 2)
    await stopCapturing(tenant.organizationId)
    const decrypt = vi.spyOn(crypto.subtle, 'decrypt')

    const result = await consume(batchOf('audit-deliveries', captured as AttemptMessage[]))
    expect(result.explicitAcks).toHaveLength(2)
    expect(decrypt).toHaveBeenCalledTimes(1)
    const [atGood, atBad] = [await receivedAt(good.path), await receivedAt(bad.path)]
    expect(atGood.at(-1)?.body).toContain(second.deliveryId)
    expect(atBad.at(-1)?.body).toBe(atGood.at(-1)?.body)
  })
})
