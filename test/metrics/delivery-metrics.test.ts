import { beforeAll, describe, expect, it } from 'vitest'
import { summarizeLatency } from '../../src/services/metrics/histogram'
import { call, createTenant } from '../support/api'
import {
  createWebhookDestination,
  injectFault,
  seedDelivery,
  waitForDelivery,
} from '../support/delivery-helpers'
import { histogramOf, pollMetrics, recordedAttempts } from '../support/metrics-helpers'

const MINUTE = 60_000

/**
 * One tenant, two webhook destinations on the receiver peer: A receives two deliveries
 * (one answered after a 300 ms stall), B one that fails twice with 500 and so fails for
 * good under a two-attempt policy. Every figure below is derived from those deliveries.
 */
describe('GET /v1/metrics after real deliveries', () => {
  let tenant: Awaited<ReturnType<typeof createTenant>>
  let hookA: Awaited<ReturnType<typeof createWebhookDestination>>
  let hookB: Awaited<ReturnType<typeof createWebhookDestination>>
  let deliveryIds: string[]
  let range: string
  let startMs: number

  beforeAll(async () => {
    startMs = Date.now()
    tenant = await createTenant('metrics')
    const settings = await call('/v1/settings', {
      method: 'PUT',
      token: tenant.apiKey,
      body: { retry: { maxAttempts: 2, baseDelay: 100, maxDelay: 100 } },
    })
    expect(settings.status).toBe(200)
    hookA = await createWebhookDestination(tenant.apiKey, { label: 'hook A' })
    hookB = await createWebhookDestination(tenant.apiKey, { label: 'hook B' })

    const send = async (destination: string) => {
      const accepted = await call('/v1/deliveries', {
        token: tenant.apiKey,
        body: seedDelivery(destination),
      })
      expect(accepted.status).toBe(202)
      return (await waitForDelivery(tenant.apiKey, accepted.json.deliveryId)) as {
        deliveryId: string
        status: string
      }
    }
    const first = await send(hookA.id)
    await injectFault(hookA.path, { mode: 'hang', ms: 300 })
    const slow = await send(hookA.id)
    await injectFault(hookB.path, { mode: 'status', status: 500, times: 2 })
    const failing = await send(hookB.id)
    expect([first.status, slow.status, failing.status]).toEqual([
      'delivered',
      'delivered',
      'failed',
    ])
    deliveryIds = [first.deliveryId, slow.deliveryId, failing.deliveryId]

    const from = new Date(startMs - MINUTE).toISOString()
    const to = new Date(Date.now() + MINUTE).toISOString()
    range = `startDate=${from}&endDate=${to}`
  }, 60_000)

  it('Should count accepted, final outcomes, retries and attempts exactly', async () => {
    const body = await pollMetrics(
      tenant.apiKey,
      `/v1/metrics?${range}`,
      (b) => b.totals.attempts === 4 && b.totals.accepted === 3,
    )
    expect(body.totals).toEqual({ accepted: 3, delivered: 2, failed: 1, retried: 1, attempts: 4 })
    expect(body.successRate).toBe(2 / 3)
    expect(body.organizationId).toBe(tenant.organizationId)
    expect(body.granularity).toBe('hour')
  })

  it('Should build the latency histogram from exactly the recorded attempts', async () => {
    const attempts = await recordedAttempts(tenant.apiKey, deliveryIds)
    expect(attempts).toHaveLength(4)
    const slowest = Math.max(...attempts.map((a) => a.durationMs))
    expect(slowest).toBeGreaterThanOrEqual(300)
    const { buckets, sumMs } = histogramOf(attempts)
    const body = await pollMetrics(
      tenant.apiKey,
      `/v1/metrics?${range}`,
      (b) => b.totals.attempts === 4,
    )
    expect(body.latency).toEqual(summarizeLatency(buckets, sumMs))
    expect(body.latency.count).toBe(4)
    expect(body.latency.mean).toBe(Math.round((sumMs / 4) * 10) / 10)
  })

  it('Should split the figures by type and by destination', async () => {
    const attempts = await recordedAttempts(tenant.apiKey, deliveryIds)
    const of = (id: string) => {
      const { buckets, sumMs } = histogramOf(attempts.filter((a) => a.destinationId === id))
      return summarizeLatency(buckets, sumMs)
    }
    const body = await pollMetrics(
      tenant.apiKey,
      `/v1/metrics?${range}`,
      (b) => b.totals.attempts === 4 && b.totals.accepted === 3,
    )
    expect(body.byType).toEqual([
      {
        destinationType: 'webhook',
        totals: body.totals,
        successRate: 2 / 3,
        latency: body.latency,
      },
    ])
    expect(body.byDestination).toEqual(
      [
        {
          destinationId: hookA.id,
          destinationType: 'webhook',
          label: 'hook A',
          totals: { accepted: 2, delivered: 2, failed: 0, retried: 0, attempts: 2 },
          successRate: 1,
          latency: of(hookA.id),
        },
        {
          destinationId: hookB.id,
          destinationType: 'webhook',
          label: 'hook B',
          totals: { accepted: 1, delivered: 0, failed: 1, retried: 1, attempts: 2 },
          successRate: 0,
          latency: of(hookB.id),
        },
      ].sort((a, b) => a.destinationId.localeCompare(b.destinationId)),
    )
  })

  it('Should answer a zero-filled time series whose points add up to the totals', async () => {
    const body = await pollMetrics(
      tenant.apiKey,
      `/v1/metrics?${range}&granularity=minute`,
      (b) => b.totals.attempts === 4 && b.totals.accepted === 3,
    )
    const first = Math.floor((startMs - MINUTE) / MINUTE)
    expect(body.startDate).toBe(new Date(first * MINUTE).toISOString())
    expect(body.timeSeries[0].start).toBe(body.startDate)
    const minutes = (Date.parse(body.endDate) - Date.parse(body.startDate)) / MINUTE
    expect(body.timeSeries).toHaveLength(minutes)
    const sum = (key: string) =>
      body.timeSeries.reduce((n: number, point: { totals: Record<string, number> }) => {
        return n + (point.totals[key] ?? 0)
      }, 0)
    expect(['accepted', 'delivered', 'failed', 'retried', 'attempts'].map(sum)).toEqual([
      3, 2, 1, 1, 4,
    ])
    const empty = body.timeSeries.find(
      (point: { totals: { attempts: number; accepted: number } }) =>
        point.totals.attempts === 0 && point.totals.accepted === 0,
    )
    expect(empty).toEqual({
      start: expect.any(String),
      totals: { accepted: 0, delivered: 0, failed: 0, retried: 0, attempts: 0 },
      successRate: null,
      latency: { count: 0, p50: null, p95: null, p99: null, mean: null },
    })
  })

  it('Should filter by destination and by type', async () => {
    const onlyB = await pollMetrics(
      tenant.apiKey,
      `/v1/metrics?${range}&destinationId=${hookB.id}`,
      (b) => b.totals.attempts === 2,
    )
    expect(onlyB.totals).toEqual({ accepted: 1, delivered: 0, failed: 1, retried: 1, attempts: 2 })
    expect(onlyB.successRate).toBe(0)
    expect(onlyB.byDestination.map((d: { destinationId: string }) => d.destinationId)).toEqual([
      hookB.id,
    ])
    expect(onlyB.backlog.map((d: { destinationId: string }) => d.destinationId)).toEqual([hookB.id])
    const noEmail = await call(`/v1/metrics?${range}&destinationType=email`, {
      token: tenant.apiKey,
    })
    expect(noEmail.status).toBe(200)
    expect(noEmail.json.totals).toEqual({
      accepted: 0,
      delivered: 0,
      failed: 0,
      retried: 0,
      attempts: 0,
    })
    expect(noEmail.json.successRate).toBeNull()
    expect(noEmail.json.byDestination).toEqual([])
    expect(noEmail.json.backlog).toEqual([])
  })

  it('Should report an empty backlog for each destination once everything settled', async () => {
    const body = await call(`/v1/metrics?${range}`, { token: tenant.apiKey })
    expect(body.json.backlog).toEqual(
      [
        { destinationId: hookA.id, destinationType: 'webhook', label: 'hook A' },
        { destinationId: hookB.id, destinationType: 'webhook', label: 'hook B' },
      ]
        .sort((a, b) => a.destinationId.localeCompare(b.destinationId))
        .map((d) => ({
          ...d,
          queued: 0,
          held: 0,
          retrying: 0,
          delivering: 0,
          oldestAgeMs: null,
        })),
    )
  })

  it('Should not count anything for another organization', async () => {
    const other = await createTenant('metrics')
    const body = await call(`/v1/metrics?${range}`, { token: other.apiKey })
    expect(body.status).toBe(200)
    expect(body.json.totals).toEqual({
      accepted: 0,
      delivered: 0,
      failed: 0,
      retried: 0,
      attempts: 0,
    })
    expect(body.json.byDestination).toEqual([])
  })
})
