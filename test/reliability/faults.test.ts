import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AttemptMessage } from '../../src/delivery/messages'
import type { Outbox } from '../../src/durable-objects/organization/outbox'
import { call, createTenant } from '../support/api'
import {
  createWebhookDestination,
  injectFault,
  receivedAt,
  seedDelivery,
  waitForDelivery,
} from '../support/delivery-helpers'
import type { Fault } from '../support/peers'
import { batchOf, captureReleases, consume, stopCapturing } from '../support/queue-consumer'
import {
  deliver,
  eventually,
  expectSettledAndReceived,
  FAST_RETRY,
  insideOrganization,
  organizationObject,
  putSettings,
} from '../support/reliability'

afterEach(() => {
  vi.restoreAllMocks()
})

/** A tenant with fast retries and two receivers: one that misbehaves, one that is healthy. */
async function faultyAndHealthy(fault: Fault, timeout?: number) {
  const tenant = await createTenant('faults')
  await putSettings(tenant.apiKey, { retry: FAST_RETRY })
  const faulty = await createWebhookDestination(tenant.apiKey, { timeout })
  const healthy = await createWebhookDestination(tenant.apiKey)
  await injectFault(faulty.path, fault)
  return { tenant, faulty, healthy }
}

describe('faults at the receiver: nothing accepted is lost', () => {
  const cases: Array<[string, Fault, number | undefined, string]> = [
    [
      'answers 500 twice and then recovers',
      { mode: 'status', status: 500, times: 2 },
      undefined,
      'http_500',
    ],
    ['hangs past the timeout', { mode: 'hang', ms: 3000 }, 1000, 'timeout'],
    ['drops the connection', { mode: 'drop', times: 2 }, undefined, 'network_error'],
  ]
  for (const [title, fault, timeout, code] of cases) {
    it(`Should deliver to both destinations when one receiver ${title}`, async () => {
      const { tenant, faulty, healthy } = await faultyAndHealthy(fault, timeout)
      const accepted = await deliver(tenant.apiKey, seedDelivery([faulty.id, healthy.id]))

      const view = await expectSettledAndReceived(tenant.apiKey, accepted.deliveryId, {
        [faulty.id]: faulty.path,
        [healthy.id]: healthy.path,
      })
      expect(view.status).toBe('delivered')
      const faultyTarget = view.destinations.find(
        (d: { destinationId: string }) => d.destinationId === faulty.id,
      )
      const failures = (fault.times ?? 1) as number
      expect(faultyTarget).toMatchObject({ status: 'delivered', attempts: failures + 1 })
      expect(faultyTarget.lastError.code).toBe(code)
      expect((await receivedAt(healthy.path)).length).toBe(1)
    })
  }

  it('Should not try again before the Retry-After of a 429 has passed', async () => {
    const { tenant, faulty } = await faultyAndHealthy({
      mode: 'status',
      status: 429,
      headers: { 'retry-after': '2' },
    })
    const accepted = await deliver(tenant.apiKey, seedDelivery(faulty.id))
    await expectSettledAndReceived(tenant.apiKey, accepted.deliveryId, {
      [faulty.id]: faulty.path,
    })
    const [refused, accepted2, ...more] = await receivedAt(faulty.path)
    expect(more).toEqual([])
    expect([refused.status, accepted2.status]).toEqual([429, 200])
    // FAST_RETRY alone would try again after at most 100 ms.
    expect(
      Date.parse(accepted2.receivedAt) - Date.parse(refused.receivedAt),
    ).toBeGreaterThanOrEqual(2000)
  })

  it('Should end a delivery failed with its last error when the receiver never recovers', async () => {
    const { tenant, faulty, healthy } = await faultyAndHealthy({
      mode: 'status',
      status: 503,
      times: 100,
    })
    await putSettings(tenant.apiKey, { retry: { ...FAST_RETRY, maxAttempts: 3 } })
    const accepted = await deliver(tenant.apiKey, seedDelivery([faulty.id, healthy.id]))
    const view = await expectSettledAndReceived(tenant.apiKey, accepted.deliveryId, {
      [faulty.id]: faulty.path,
      [healthy.id]: healthy.path,
    })
    expect(view.status).toBe('partially_delivered')
    expect(
      view.destinations.find((d: { destinationId: string }) => d.destinationId === faulty.id),
    ).toMatchObject({
      status: 'failed',
      attempts: 3,
      reason: 'retries_exhausted',
      lastError: { code: 'http_503', httpStatus: 503 },
    })
    expect((await receivedAt(faulty.path)).map((r) => r.status)).toEqual([503, 503, 503])
  })
})

describe('faults inside the service: nothing accepted is lost', () => {
  it('Should send again from the alarm when a queue send fails after the object committed', async () => {
    const tenant = await createTenant('faults')
    const hook = await createWebhookDestination(tenant.apiKey)
    const failures: string[] = []
    await insideOrganization(tenant.organizationId, (instance) => {
      const send = instance.queueSender
      instance.queueSender = async (queue, batch) => {
        if (failures.length === 0) {
          failures.push(...batch.map((message) => (message.body as AttemptMessage).deliveryId))
          throw new Error('Queue send failed: injected')
        }
        await send(queue, batch)
      }
    })

    const accepted = await deliver(tenant.apiKey, seedDelivery(hook.id))
    const view = await expectSettledAndReceived(tenant.apiKey, accepted.deliveryId, {
      [hook.id]: hook.path,
    })
    expect(failures).toEqual([accepted.deliveryId])
    // The failed send was not an attempt: the first one that went out succeeded.
    expect(view.destinations[0]).toMatchObject({ status: 'delivered', attempts: 1 })
    expect((await receivedAt(hook.path)).length).toBe(1)
  })

  it('Should re-arm an alarm that throws, and still do its work', async () => {
    const tenant = await createTenant('faults')
    const hook = await createWebhookDestination(tenant.apiKey)
    const errors = vi.spyOn(console, 'error')
    let thrown = 0
    await insideOrganization(tenant.organizationId, (instance, sql) => {
      // The first alarm that has work to release fails before it releases anything.
      const outbox = (instance as unknown as { outbox: Outbox }).outbox
      const release = outbox.release.bind(outbox)
      outbox.release = (...args) => {
        const queued = sql
          .exec<{ n: number }>("SELECT count(*) AS n FROM targets WHERE status = 'queued'")
          .one().n
        if (thrown === 0 && queued > 0) {
          thrown += 1
          throw new Error('injected alarm failure')
        }
        return release(...args)
      }
    })

    const accepted = await deliver(tenant.apiKey, seedDelivery(hook.id))
    await eventually('the alarm to fail', async () => thrown === 1)
    const rearmedAt = await eventually('the alarm to be re-armed', () =>
      insideOrganization(tenant.organizationId, (_instance, _sql, state) =>
        state.storage.getAlarm(),
      ),
    )
    expect(rearmedAt).toBeGreaterThan(Date.now())
    expect(
      errors.mock.calls.some(([line]) => String(line).includes('"event":"alarm_failed"')),
    ).toBe(true)
    expect((await receivedAt(hook.path)).length).toBe(0)

    // The re-armed alarm may fire on its own first; either way it runs.
    await runDurableObjectAlarm(organizationObject(tenant.organizationId))
    const view = await expectSettledAndReceived(tenant.apiKey, accepted.deliveryId, {
      [hook.id]: hook.path,
    })
    expect(view.destinations[0]).toMatchObject({ status: 'delivered', attempts: 1 })
  })
})

describe('delivery queue consumer (unit, platform batch helpers)', () => {
  it('Should ack what was recorded and retry the rest when recording fails part-way through a batch', async () => {
    const reachable = await createTenant('faults')
    const unreachable = await createTenant('faults')
    const hookA = await createWebhookDestination(reachable.apiKey)
    const hookB = await createWebhookDestination(unreachable.apiKey)
    const capturedA = await captureReleases(reachable.organizationId)
    const capturedB = await captureReleases(unreachable.organizationId)
    const a1 = await deliver(reachable.apiKey, seedDelivery(hookA.id))
    const b1 = await deliver(unreachable.apiKey, seedDelivery(hookB.id))
    const a2 = await deliver(reachable.apiKey, seedDelivery(hookA.id))
    await eventually('three releases', async () => capturedA.length + capturedB.length === 3)
    // Stop capturing: later releases (none expected) go to the queue again.
    for (const tenant of [reachable, unreachable]) await stopCapturing(tenant.organizationId)

    // The middle message's organization object cannot be reached while the batch runs.
    const brokenId = env.ORGANIZATIONS.idFromName(unreachable.organizationId)
    const brokenEnv = {
      ...env,
      ORGANIZATIONS: {
        idFromName: (name: string) => env.ORGANIZATIONS.idFromName(name),
        get: (id: DurableObjectId) =>
          id.equals(brokenId)
            ? {
                recordAttempts: async () => {
                  throw new Error('Network connection lost.')
                },
              }
            : env.ORGANIZATIONS.get(id),
      },
    } as unknown as typeof env
    const ordered = [
      capturedA.find((m) => m.deliveryId === a1.deliveryId),
      capturedB[0],
      capturedA.find((m) => m.deliveryId === a2.deliveryId),
    ] as AttemptMessage[]
    const batch = batchOf('audit-deliveries', ordered)
    const result = await consume(batch, brokenEnv)

    expect({ ...result, explicitAcks: [...result.explicitAcks].sort() }).toEqual({
      outcome: 'ok',
      ackAll: false,
      retryBatch: { retry: false },
      explicitAcks: [`${a1.deliveryId}-0`, `${a2.deliveryId}-2`].sort(),
      // The platform helper records which messages were retried, not their delay.
      retryMessages: [{ msgId: `${b1.deliveryId}-1` }],
    })
    expect((await waitForDelivery(reachable.apiKey, a1.deliveryId)).status).toBe('delivered')
    expect((await waitForDelivery(reachable.apiKey, a2.deliveryId)).status).toBe('delivered')

    // The queue redelivers the retried message; now it is recorded and acknowledged.
    const redelivery = batchOf('audit-deliveries', [capturedB[0] as AttemptMessage])
    expect((await consume(redelivery)).explicitAcks).toEqual([`${b1.deliveryId}-0`])
    await expectSettledAndReceived(unreachable.apiKey, b1.deliveryId, { [hookB.id]: hookB.path })
    // At least once: the receiver saw it twice, both times under the same webhook-id.
    expect((await receivedAt(hookB.path)).length).toBe(2)
  })

  it('Should turn a handler that throws mid-batch into a recorded retry and deliver it after recovery', async () => {
    const tenant = await createTenant('faults')
    await putSettings(tenant.apiKey, { retry: { ...FAST_RETRY, maxAttempts: 20 } })
    const first = await createWebhookDestination(tenant.apiKey)
    const broken = await createWebhookDestination(tenant.apiKey)
    const last = await createWebhookDestination(tenant.apiKey)
    const captured = await captureReleases(tenant.organizationId)
    const accepted = await deliver(tenant.apiKey, seedDelivery([first.id, broken.id, last.id]))
    await eventually('three releases', async () => captured.length === 3)
    await stopCapturing(tenant.organizationId)

    // The middle destination's stored credentials cannot be opened: loading it throws.
    const row = await env.DB.prepare('SELECT secrets FROM destinations WHERE id = ?')
      .bind(broken.id)
      .first<{ secrets: string }>()
    await env.DB.prepare('UPDATE destinations SET secrets = ? WHERE id = ?')
      .bind('v1.unknown-key.AAAA.AAAA', broken.id)
      .run()
    const order = [first.id, broken.id, last.id]
    const batch = batchOf(
      'audit-deliveries',
      order.map((id) => captured.find((m) => m.destinationId === id) as AttemptMessage),
    )
    const result = await consume(batch)
    expect(result.explicitAcks).toHaveLength(3)
    expect(result.retryMessages).toEqual([])

    const during = await waitForDelivery(tenant.apiKey, accepted.deliveryId, (view) =>
      view.destinations.some(
        (d: { destinationId: string; lastError: { code: string } | null }) =>
          d.destinationId === broken.id && d.lastError?.code === 'handler_error',
      ),
    )
    expect(during.destinations.map((d: { status: string }) => d.status)).not.toContain('failed')
    await env.DB.prepare('UPDATE destinations SET secrets = ? WHERE id = ?')
      .bind(row?.secrets, broken.id)
      .run()
    const view = await expectSettledAndReceived(tenant.apiKey, accepted.deliveryId, {
      [first.id]: first.path,
      [broken.id]: broken.path,
      [last.id]: last.path,
    })
    expect(view.status).toBe('delivered')
  })

  it('Should record a dead letter and still settle the delivery', async () => {
    const tenant = await createTenant('faults')
    await putSettings(tenant.apiKey, { retry: FAST_RETRY })
    const hook = await createWebhookDestination(tenant.apiKey)
    const captured = await captureReleases(tenant.organizationId)
    const accepted = await deliver(tenant.apiKey, seedDelivery(hook.id))
    await eventually('one release', async () => captured.length === 1)
    await stopCapturing(tenant.organizationId)

    const result = await consume(batchOf('audit-deliveries-dlq', captured))
    expect(result.explicitAcks).toEqual([`${accepted.deliveryId}-0`])
    const dead = await env.DB.prepare(
      'SELECT organization_id, delivery_id, destination_id FROM dead_letters WHERE delivery_id = ?',
    )
      .bind(accepted.deliveryId)
      .all()
    expect(dead.results).toEqual([
      {
        organization_id: tenant.organizationId,
        delivery_id: accepted.deliveryId,
        destination_id: hook.id,
      },
    ])
    const view = await expectSettledAndReceived(tenant.apiKey, accepted.deliveryId, {
      [hook.id]: hook.path,
    })
    expect(view.destinations[0]).toMatchObject({ status: 'delivered', attempts: 2 })
    const attempts = await eventually('two attempts', async () => {
      const response = await call(`/v1/deliveries/${accepted.deliveryId}/attempts`, {
        token: tenant.apiKey,
      })
      return response.json.attempts.length === 2 && response.json.attempts
    })
    expect(attempts.map((a: { error: { code: string } | null }) => a.error?.code ?? null)).toEqual([
      'dead_lettered',
      null,
    ])
  })
})
