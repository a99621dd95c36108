import { describe, expect, it } from 'vitest'
import type { DeliveryMetrics, DeliveryService } from '../../src/client/index.ts'
import { createWebhookDestination } from '../support/delivery-helpers'
import { tenantClient } from './harness'

const payload = { type: 'phi-access-audit', data: { patientId: 'P-1' } }

/** Acceptances and outcomes roll up on their own, shortly after; poll until `ready` holds. */
async function metricsWhen(
  client: DeliveryService,
  query: Parameters<DeliveryService['getDeliveryMetrics']>[0],
  ready: (metrics: DeliveryMetrics) => boolean,
): Promise<DeliveryMetrics> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const metrics = await client.getDeliveryMetrics(query)
    if (ready(metrics) || Date.now() > deadline) return metrics
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('client: metrics', () => {
  it("Should read the organization's delivery metrics over a time range (the seed's getDeliveryMetrics)", async () => {
    const { client, organizationId, apiKey } = await tenantClient()
    const startDate = new Date(Date.now() - 60_000).toISOString()
    const hook = await createWebhookDestination(apiKey, { label: 'metered' })
    const receipt = await client.deliver({ destinations: hook.id, payload })
    await client.waitForDelivery(receipt.deliveryId, { intervalMs: 50 })

    const endDate = new Date(Date.now() + 60_000).toISOString()
    const metrics = await metricsWhen(
      client,
      { organizationId, startDate, endDate },
      (each) => each.totals.accepted === 1 && each.totals.delivered === 1,
    )
    expect(metrics).toMatchObject({
      organizationId,
      granularity: 'hour',
      totals: { accepted: 1, delivered: 1, failed: 0, retried: 0, attempts: 1 },
      successRate: 1,
      byDestination: [
        expect.objectContaining({
          destinationId: hook.id,
          destinationType: 'webhook',
          label: 'metered',
        }),
      ],
    })

    const text = await client.getPrometheusMetrics()
    expect(text).toContain(
      `audit_deliveries_accepted_total{organization="${organizationId}",destination="${hook.id}",destination_type="webhook"} 1`,
    )
  })

  it('Should answer 400 naming the query field for a range that ends before it starts', async () => {
    const { client } = await tenantClient()
    await expect(
      client.getDeliveryMetrics({
        startDate: '2026-12-02T00:00:00Z',
        endDate: '2026-12-01T00:00:00Z',
      }),
    ).rejects.toMatchObject({
      status: 400,
      code: 'validation_error',
      message: 'query.endDate: must be after startDate',
      details: { issues: [{ path: 'query.endDate', message: 'must be after startDate' }] },
    })
  })
})

describe('client: alert rules', () => {
  it('Should create, list, read, update and delete an alert rule', async () => {
    const { client, organizationId, apiKey } = await tenantClient()
    const pager = await createWebhookDestination(apiKey, { label: 'on-call pager' })
    const rule = await client.createAlertRule({
      name: 'Failing deliveries',
      kind: 'failure_rate',
      condition: { threshold: 0.2 },
      notify: [pager.id],
    })
    expect(rule).toEqual({
      id: expect.stringMatching(/^alr_/),
      organizationId,
      name: 'Failing deliveries',
      kind: 'failure_rate',
      condition: { threshold: 0.2, windowMinutes: 15, minOutcomes: 10 },
      destinationId: null,
      notify: [pager.id],
      cooldownMinutes: 60,
      enabled: true,
      lastFiredAt: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    })
    expect(await client.listAlertRules()).toEqual({ alertRules: [rule], nextCursor: null })
    expect(await client.getAlertRule(rule.id)).toEqual(rule)

    const paused = await client.updateAlertRule(rule.id, { enabled: false, cooldownMinutes: 5 })
    expect(paused).toMatchObject({ id: rule.id, enabled: false, cooldownMinutes: 5 })

    expect(await client.deleteAlertRule(rule.id)).toEqual({ id: rule.id, deleted: true })
    await expect(client.getAlertRule(rule.id)).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    })
  })
})
