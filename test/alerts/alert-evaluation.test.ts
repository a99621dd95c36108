import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import type { ServiceEnv } from '../../src/env'
import worker from '../../src/index'
import { evaluateAlertRules } from '../../src/services/alerts/evaluator'
import { call, createTenant } from '../support/api'
import {
  createWebhookDestination,
  injectFault,
  receivedAt,
  seedDelivery,
  waitForDelivery,
} from '../support/delivery-helpers'
import { pollMetrics } from '../support/metrics-helpers'

const MINUTE = 60_000
type Tenant = Awaited<ReturnType<typeof createTenant>>

async function settings(tenant: Tenant, body: Record<string, unknown>) {
  const response = await call('/v1/settings', { method: 'PUT', token: tenant.apiKey, body })
  expect(response.status).toBe(200)
}

async function deliver(tenant: Tenant, destinationId: string) {
  const accepted = await call('/v1/deliveries', {
    token: tenant.apiKey,
    body: seedDelivery(destinationId),
  })
  expect(accepted.status).toBe(202)
  return waitForDelivery(tenant.apiKey, accepted.json.deliveryId)
}

async function createRule(tenant: Tenant, body: Record<string, unknown>) {
  const created = await call('/v1/alert-rules', { token: tenant.apiKey, body })
  expect(created.status).toBe(201)
  return created.json as { id: string; lastFiredAt: string | null }
}

async function outcomeAt(ruleId: string, now: number) {
  const results = await evaluateAlertRules(env as ServiceEnv, new Date(now))
  return results.find((result) => result.alertRuleId === ruleId)?.outcome
}

/** Polls the receiver until `count` requests arrived at `path`; returns their parsed bodies. */
async function alertsAt(path: string, count: number) {
  const deadline = Date.now() + 15_000
  let requests: { body: string; check: unknown }[] = []
  while (Date.now() < deadline) {
    requests = await receivedAt(path)
    if (requests.length >= count) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  expect(requests).toHaveLength(count)
  return requests.map((request) => ({ ...JSON.parse(request.body), check: request.check }))
}

describe('alert rule evaluation', () => {
  it('Should fire a failure-rate alert once, stay quiet during the cool-down, then fire again', async () => {
    const tenant = await createTenant('fire')
    await settings(tenant, { retry: { maxAttempts: 1, baseDelay: 100, maxDelay: 100 } })
    const failing = await createWebhookDestination(tenant.apiKey, { label: 'failing' })
    const oncall = await createWebhookDestination(tenant.apiKey, { label: 'on-call' })
    await injectFault(failing.path, { mode: 'status', status: 500, times: 2 })
    expect((await deliver(tenant, failing.id)).status).toBe('failed')
    expect((await deliver(tenant, failing.id)).status).toBe('failed')
    await pollMetrics(tenant.apiKey, '/v1/metrics', (body) => body.totals.failed === 2)

    const rule = await createRule(tenant, {
      name: 'Evidence is not arriving',
      kind: 'failure_rate',
      condition: { threshold: 0.5, windowMinutes: 5, minOutcomes: 2 },
      destinationId: failing.id,
      notify: [oncall.id],
      cooldownMinutes: 1,
    })
    const now = Date.now()
    expect(await outcomeAt(rule.id, now)).toBe('fired')
    expect(await outcomeAt(rule.id, now + 30_000)).toBe('cooling_down')

    const [alert] = await alertsAt(oncall.path, 1)
    expect(alert).toMatchObject({
      type: 'operational.alert',
      organizationId: tenant.organizationId,
      tags: ['operational'],
      check: { ok: true, details: { verified: [true] } },
      data: {
        alertRuleId: rule.id,
        organizationId: tenant.organizationId,
        name: 'Evidence is not arriving',
        kind: 'failure_rate',
        condition: { threshold: 0.5, windowMinutes: 5, minOutcomes: 2 },
        destinationId: failing.id,
        observed: { failureRate: 1, delivered: 0, failed: 2, windowMinutes: 5 },
        firedAt: new Date(now).toISOString(),
      },
    })
    const read = await call(`/v1/alert-rules/${rule.id}`, { token: tenant.apiKey })
    expect(read.json.lastFiredAt).toBe(new Date(now).toISOString())

    // Past the one-minute cool-down the condition still holds (the window is five minutes).
    expect(await outcomeAt(rule.id, now + 2 * MINUTE)).toBe('fired')
    const alerts = await alertsAt(oncall.path, 2)
    expect(alerts[1].data.firedAt).toBe(new Date(now + 2 * MINUTE).toISOString())
  })

  it('Should stay quiet below the threshold or with too few outcomes', async () => {
    const tenant = await createTenant('fire')
    const hook = await createWebhookDestination(tenant.apiKey)
    expect((await deliver(tenant, hook.id)).status).toBe('delivered')
    await pollMetrics(tenant.apiKey, '/v1/metrics', (body) => body.totals.delivered === 1)
    const below = await createRule(tenant, {
      name: 'Any failure',
      kind: 'failure_rate',
      condition: { threshold: 0.01, minOutcomes: 1 },
      notify: [hook.id],
    })
    const tooFew = await createRule(tenant, {
      name: 'Slow',
      kind: 'latency',
      condition: { percentile: 'p50', thresholdMs: 1, minAttempts: 2 },
      notify: [hook.id],
    })
    expect(await outcomeAt(below.id, Date.now())).toBe('quiet')
    expect(await outcomeAt(tooFew.id, Date.now())).toBe('quiet')
  })

  it('Should fire on latency and on consecutive failures with what it observed', async () => {
    const tenant = await createTenant('fire')
    await settings(tenant, { retry: { maxAttempts: 3, baseDelay: 100, maxDelay: 100 } })
    const slow = await createWebhookDestination(tenant.apiKey, { label: 'slow' })
    const broken = await createWebhookDestination(tenant.apiKey, { label: 'broken' })
    const oncall = await createWebhookDestination(tenant.apiKey, { label: 'on-call' })
    await injectFault(slow.path, { mode: 'hang', ms: 300 })
    await injectFault(broken.path, { mode: 'status', status: 503, times: 3 })
    expect((await deliver(tenant, slow.id)).status).toBe('delivered')
    expect((await deliver(tenant, broken.id)).status).toBe('failed')
    await pollMetrics(
      tenant.apiKey,
      `/v1/metrics?destinationId=${slow.id}`,
      (body) => body.totals.attempts === 1,
    )
    const latency = await createRule(tenant, {
      name: 'Slow receiver',
      kind: 'latency',
      condition: { percentile: 'p99', thresholdMs: 250, minAttempts: 1 },
      destinationId: slow.id,
      notify: [oncall.id],
    })
    const streak = await createRule(tenant, {
      name: 'Failing in a row',
      kind: 'consecutive_failures',
      condition: { threshold: 3 },
      notify: [oncall.id],
    })
    const results = await evaluateAlertRules(env as ServiceEnv, new Date())
    const outcomes = new Map(results.map((result) => [result.alertRuleId, result.outcome]))
    expect([outcomes.get(latency.id), outcomes.get(streak.id)]).toEqual(['fired', 'fired'])

    const alerts = await alertsAt(oncall.path, 2)
    const byRule = new Map(alerts.map((alert) => [alert.data.alertRuleId, alert.data]))
    const metrics = await call(`/v1/metrics?destinationId=${slow.id}`, { token: tenant.apiKey })
    expect(byRule.get(latency.id)?.observed).toEqual({
      percentile: 'p99',
      latencyMs: metrics.json.latency.p99,
      attempts: 1,
      windowMinutes: 15,
    })
    expect(byRule.get(streak.id)?.observed).toEqual({
      destinations: [
        { destinationId: broken.id, label: 'broken', consecutiveFailures: 3, circuit: 'closed' },
      ],
    })
  })

  it('Should not claim the rule when no notify destination can receive', async () => {
    const tenant = await createTenant('fire')
    const hook = await createWebhookDestination(tenant.apiKey)
    const oncall = await createWebhookDestination(tenant.apiKey)
    await injectFault(hook.path, { mode: 'hang', ms: 3000 })
    const accepted = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id),
    })
    const rule = await createRule(tenant, {
      name: 'Stuck',
      kind: 'backlog_age',
      condition: { thresholdSeconds: 1 },
      notify: [oncall.id],
    })
    const disabled = await call(`/v1/destinations/${oncall.id}`, {
      method: 'PATCH',
      token: tenant.apiKey,
      body: { disabled: true },
    })
    expect(disabled.status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 1200))
    expect(await outcomeAt(rule.id, Date.now())).toBe('not_sent')
    const read = await call(`/v1/alert-rules/${rule.id}`, { token: tenant.apiKey })
    expect(read.json.lastFiredAt).toBeNull()
    await waitForDelivery(tenant.apiKey, accepted.json.deliveryId)
  })

  it('Should run from the cron trigger and alert on a backlog older than the threshold', async () => {
    const tenant = await createTenant('cron')
    const stuck = await createWebhookDestination(tenant.apiKey, { label: 'stuck' })
    const oncall = await createWebhookDestination(tenant.apiKey, { label: 'on-call' })
    await injectFault(stuck.path, { mode: 'hang', ms: 3000 })
    const accepted = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(stuck.id),
    })
    expect(accepted.status).toBe(202)
    const rule = await createRule(tenant, {
      name: 'Backlog is old',
      kind: 'backlog_age',
      condition: { thresholdSeconds: 1 },
      destinationId: stuck.id,
      notify: [oncall.id],
    })
    await new Promise((resolve) => setTimeout(resolve, 1200))

    const scheduledTime = Date.now()
    const controller = createScheduledController({ scheduledTime, cron: '* * * * *' })
    const ctx = createExecutionContext()
    await worker.scheduled(controller, env as ServiceEnv, ctx)
    await waitOnExecutionContext(ctx)

    const read = await call(`/v1/alert-rules/${rule.id}`, { token: tenant.apiKey })
    expect(read.json.lastFiredAt).toBe(new Date(scheduledTime).toISOString())
    const [alert] = await alertsAt(oncall.path, 1)
    expect(alert.data).toMatchObject({
      alertRuleId: rule.id,
      kind: 'backlog_age',
      observed: {
        destinations: [
          {
            destinationId: stuck.id,
            label: 'stuck',
            queued: 0,
            held: 0,
            retrying: 0,
            delivering: 1,
            oldestAgeMs: expect.any(Number),
          },
        ],
      },
    })
    expect(alert.data.observed.destinations[0].oldestAgeMs).toBeGreaterThanOrEqual(1000)
    await waitForDelivery(tenant.apiKey, accepted.json.deliveryId)
  })
})
