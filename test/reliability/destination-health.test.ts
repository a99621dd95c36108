import { runDurableObjectAlarm } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { call, createTenant } from '../support/api'
import {
  clearFaults,
  createWebhookDestination,
  injectFault,
  receivedAt,
  seedDelivery,
  waitForDelivery,
} from '../support/delivery-helpers'
import { batchOf, captureReleases, consume, stopCapturing } from '../support/queue-consumer'
import {
  deliver,
  deliveryView,
  eventually,
  insideOrganization,
  organizationObject,
  putSettings,
} from '../support/reliability'

const COOLDOWN_MS = 60_000
const HOUR_MS = 3_600_000

async function health(apiKey: string, destinationId: string) {
  const response = await call(`/v1/destinations/${destinationId}/health`, { token: apiKey })
  expect(response.status).toBe(200)
  return response.json
}

/** A tenant whose circuits open after `failureThreshold` failures, with fast retries. */
async function tenantWithHealth(policy: Record<string, number>) {
  const tenant = await createTenant('health')
  await putSettings(tenant.apiKey, {
    retry: { maxAttempts: 20, baseDelay: 100, maxDelay: 200 },
    health: { cooldownMs: COOLDOWN_MS, ...policy },
  })
  return tenant
}

/**
 * Fakes the passing of time for one destination's health: the circuit opened (and the
 * failures began) `ms` earlier than recorded. Then runs the alarm that was armed for the probe.
 */
async function age(
  organizationId: string,
  destinationId: string,
  fields: { openedMs?: number; firstFailureMs?: number },
) {
  await insideOrganization(organizationId, (_instance, sql) => {
    sql.exec(
      'UPDATE destination_health SET opened_ms = opened_ms - ?, first_failure_ms = first_failure_ms - ? WHERE destination_id = ?',
      fields.openedMs ?? 0,
      fields.firstFailureMs ?? 0,
      destinationId,
    )
  })
  // The alarm may also fire on its own first; either way it has run once this returns.
  await runDurableObjectAlarm(organizationObject(organizationId))
}

function targetOf(view: { destinations: Array<Record<string, unknown>> }) {
  return view.destinations[0] as Record<string, unknown>
}

describe('destination health: the circuit breaker', () => {
  it('Should open after N consecutive failures, hold deliveries uncounted, probe once after the cool-down and close on success', async () => {
    const tenant = await tenantWithHealth({ failureThreshold: 3 })
    const hook = await createWebhookDestination(tenant.apiKey)
    await injectFault(hook.path, { mode: 'status', status: 500, times: 3 })
    // The probe takes 800 ms to answer (200): nothing else may go out meanwhile.
    await injectFault(hook.path, { mode: 'hang', ms: 800 })

    const first = await deliver(tenant.apiKey, seedDelivery(hook.id))
    const opened = await eventually('the circuit to open', async () => {
      const view = await health(tenant.apiKey, hook.id)
      return view.circuit === 'open' && view
    })
    expect(opened).toMatchObject({
      destinationId: hook.id,
      disabled: false,
      disabledReason: null,
      consecutiveFailures: 3,
      circuit: 'open',
      successRate: 0,
      windowSize: 3,
    })
    expect(Date.parse(opened.probeAt) - Date.parse(opened.openedAt)).toBe(COOLDOWN_MS)

    // While open: new deliveries wait in the outbox, nothing goes out, nothing is counted.
    const second = await deliver(tenant.apiKey, seedDelivery(hook.id))
    const third = await deliver(tenant.apiKey, seedDelivery(hook.id))
    await new Promise((resolve) => setTimeout(resolve, 600))
    for (const [accepted, attempts] of [
      [first, 3],
      [second, 0],
      [third, 0],
    ] as const) {
      expect(targetOf(await deliveryView(tenant.apiKey, accepted.deliveryId))).toMatchObject({
        status: 'held',
        reason: 'circuit_open',
        attempts,
      })
    }
    expect((await receivedAt(hook.path)).map((r) => r.status)).toEqual([500, 500, 500])
    expect((await health(tenant.apiKey, hook.id)).backlog).toMatchObject({
      queued: 2,
      retrying: 1,
      delivering: 0,
    })

    // The cool-down passes: one probe (the oldest delivery) goes out and closes the circuit.
    await age(tenant.organizationId, hook.id, { openedMs: COOLDOWN_MS })
    for (const accepted of [first, second, third]) {
      expect((await waitForDelivery(tenant.apiKey, accepted.deliveryId)).status).toBe('delivered')
    }
    const requests = await receivedAt(hook.path)
    expect(requests.map((r) => r.status)).toEqual([500, 500, 500, null, 200, 200])
    expect(requests[3]?.body).toContain(first.deliveryId)
    const probeAt = Date.parse(requests[3]?.receivedAt as string)
    for (const after of requests.slice(4))
      expect(Date.parse(after.receivedAt) - probeAt).toBeGreaterThanOrEqual(800)
    expect(await health(tenant.apiKey, hook.id)).toMatchObject({
      consecutiveFailures: 0,
      circuit: 'closed',
      openedAt: null,
      probeAt: null,
      successRate: 0.5,
      windowSize: 6,
      backlog: { queued: 0, retrying: 0, delivering: 0, oldestAgeMs: null },
    })
  })

  it('Should count every failure of one consumer batch and open the circuit within it', async () => {
    const tenant = await tenantWithHealth({ failureThreshold: 3 })
    const hook = await createWebhookDestination(tenant.apiKey)
    await injectFault(hook.path, { mode: 'status', status: 500, times: 5 })
    const captured = await captureReleases(tenant.organizationId)
    for (let i = 0; i < 5; i++) await deliver(tenant.apiKey, seedDelivery(hook.id))
    await eventually('five releases', async () => captured.length === 5)
    await stopCapturing(tenant.organizationId)

    // Five failures reach the object in one report.
    const result = await consume(batchOf('audit-deliveries', captured))
    expect(result.explicitAcks).toHaveLength(5)
    expect(await health(tenant.apiKey, hook.id)).toMatchObject({
      consecutiveFailures: 5,
      circuit: 'open',
      successRate: 0,
      windowSize: 5,
      backlog: { queued: 0, retrying: 5, delivering: 0 },
    })
    const attempts = await insideOrganization(tenant.organizationId, (_instance, sql) =>
      sql
        .exec<{ n: number }>("SELECT count(*) AS n FROM attempts WHERE outcome = 'retryable'")
        .one(),
    )
    expect(attempts.n).toBe(5)
  })

  it('Should open again for another cool-down when the probe fails', async () => {
    const tenant = await tenantWithHealth({ failureThreshold: 2 })
    const hook = await createWebhookDestination(tenant.apiKey)
    await injectFault(hook.path, { mode: 'status', status: 503, times: 3 })
    const accepted = await deliver(tenant.apiKey, seedDelivery(hook.id))
    const opened = await eventually('the circuit to open', async () => {
      const view = await health(tenant.apiKey, hook.id)
      return view.circuit === 'open' && view
    })

    await age(tenant.organizationId, hook.id, { openedMs: COOLDOWN_MS })
    const reopened = await eventually('the failed probe to reopen the circuit', async () => {
      const view = await health(tenant.apiKey, hook.id)
      return view.consecutiveFailures === 3 && view
    })
    expect(reopened.circuit).toBe('open')
    expect(Date.parse(reopened.openedAt)).toBeGreaterThan(Date.parse(opened.openedAt) - COOLDOWN_MS)
    expect((await receivedAt(hook.path)).length).toBe(3)
    expect(targetOf(await deliveryView(tenant.apiKey, accepted.deliveryId))).toMatchObject({
      status: 'held',
      reason: 'circuit_open',
      attempts: 3,
    })

    await age(tenant.organizationId, hook.id, { openedMs: COOLDOWN_MS })
    expect((await waitForDelivery(tenant.apiKey, accepted.deliveryId)).status).toBe('delivered')
    expect((await health(tenant.apiKey, hook.id)).circuit).toBe('closed')
  })
})

describe('destination health: disabling and enabling again', () => {
  it('Should disable a destination that keeps failing for the configured time, keep its deliveries and resume them when enabled', async () => {
    const tenant = await tenantWithHealth({ failureThreshold: 2, disableAfterHours: 1 })
    const hook = await createWebhookDestination(tenant.apiKey)
    await injectFault(hook.path, { mode: 'status', status: 500, times: 100 })
    const first = await deliver(tenant.apiKey, seedDelivery(hook.id))
    await eventually('the circuit to open', async () => {
      return (await health(tenant.apiKey, hook.id)).circuit === 'open'
    })
    const second = await deliver(tenant.apiKey, seedDelivery(hook.id))
    expect(
      (await call(`/v1/destinations/${hook.id}`, { token: tenant.apiKey })).json.disabled,
    ).toBe(false)

    // Failing for two hours now; the next failed probe disables it.
    await age(tenant.organizationId, hook.id, {
      openedMs: COOLDOWN_MS,
      firstFailureMs: 2 * HOUR_MS,
    })
    const disabled = await eventually('the destination to be disabled', async () => {
      const view = await health(tenant.apiKey, hook.id)
      return view.disabled && view
    })
    expect(disabled).toMatchObject({ disabledReason: 'failing_too_long', consecutiveFailures: 3 })
    for (const accepted of [first, second]) {
      expect(targetOf(await deliveryView(tenant.apiKey, accepted.deliveryId))).toMatchObject({
        status: 'held',
        reason: 'destination_disabled',
      })
    }
    const refused = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id),
    })
    expect(refused.status).toBe(422)
    expect(refused.json.error.code).toBe('destination_disabled')
    const audit = await call(`/v1/audit-log?resourceId=${hook.id}`, { token: tenant.apiKey })
    expect(audit.json.entries[0]).toMatchObject({
      actor: 'system',
      action: 'destination.disabled',
      before: { disabled: false, disabledReason: null },
      after: { disabled: true, disabledReason: 'failing_too_long' },
    })

    await clearFaults(hook.path)
    const enabled = await call(`/v1/destinations/${hook.id}`, {
      method: 'PATCH',
      token: tenant.apiKey,
      body: { disabled: false },
    })
    expect(enabled.json).toMatchObject({ disabled: false, disabledReason: null })
    for (const accepted of [first, second]) {
      expect((await waitForDelivery(tenant.apiKey, accepted.deliveryId)).status).toBe('delivered')
    }
    expect(await health(tenant.apiKey, hook.id)).toMatchObject({
      disabled: false,
      circuit: 'closed',
      consecutiveFailures: 0,
    })
  })

  it('Should disable a destination that answers 410 and resume its pending deliveries when enabled again', async () => {
    const tenant = await tenantWithHealth({ failureThreshold: 5 })
    const hook = await createWebhookDestination(tenant.apiKey, {
      delivery: { maxConcurrency: 1 },
    })
    await injectFault(hook.path, { mode: 'status', status: 410 })
    const batch = await call('/v1/deliveries/batch', {
      token: tenant.apiKey,
      body: { deliveries: [1, 2, 3].map(() => seedDelivery(hook.id)) },
    })
    expect(batch.status).toBe(200)
    const [gone, ...pending] = batch.json.results.map((r: { deliveryId: string }) => r.deliveryId)

    const failed = await waitForDelivery(tenant.apiKey, gone)
    expect(targetOf(failed)).toMatchObject({
      status: 'failed',
      reason: 'permanent_error',
      attempts: 1,
      lastError: { code: 'http_410', httpStatus: 410, message: 'Receiver answered 410' },
    })
    const disabled = await eventually('the destination to be disabled', async () => {
      const view = await health(tenant.apiKey, hook.id)
      return view.disabled && view
    })
    expect(disabled.disabledReason).toBe('http_410: Receiver answered 410')
    for (const deliveryId of pending) {
      expect(targetOf(await deliveryView(tenant.apiKey, deliveryId))).toMatchObject({
        status: 'held',
        reason: 'destination_disabled',
        attempts: 0,
      })
    }
    expect((await receivedAt(hook.path)).length).toBe(1)

    await call(`/v1/destinations/${hook.id}`, {
      method: 'PATCH',
      token: tenant.apiKey,
      body: { disabled: false },
    })
    for (const deliveryId of pending) {
      expect((await waitForDelivery(tenant.apiKey, deliveryId)).status).toBe('delivered')
    }
    const retried = await call(`/v1/deliveries/${gone}/retry`, {
      method: 'POST',
      token: tenant.apiKey,
    })
    expect(retried.status).toBe(200)
    expect(
      (await waitForDelivery(tenant.apiKey, gone, (view) => view.status === 'delivered')).status,
    ).toBe('delivered')
  })
})
