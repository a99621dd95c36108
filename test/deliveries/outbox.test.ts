import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import type { OrganizationDurableObject } from '../../src/durable-objects/organization'
import { LEASE_MS } from '../../src/durable-objects/organization/outbox'
import { organizationStub } from '../../src/durable-objects/organization-stub'
import { call, createTenant } from '../support/api'
import {
  clearFaults,
  createWebhookDestination,
  injectFault,
  receivedAt,
  seedDelivery,
  waitForDelivery,
} from '../support/delivery-helpers'
import { captureReleases } from '../support/queue-consumer'
import { eventually, insideOrganization } from '../support/reliability'

const priorityOf = (request: { body: string }) =>
  (JSON.parse(request.body) as { tags: string[] }).tags[0]

describe('the outbox', () => {
  it('releases a priority-10 delivery ahead of an earlier low-priority backlog', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey, { delivery: { maxConcurrency: 1 } })
    // The first request hangs a little so the backlog builds up behind the one in flight.
    await injectFault(hook.path, { mode: 'hang', ms: 400 })
    const low = await call('/v1/deliveries/batch', {
      token: tenant.apiKey,
      body: {
        deliveries: Array.from({ length: 15 }, () =>
          seedDelivery(hook.id, { options: { priority: 1, tags: ['low'] } }),
        ),
      },
    })
    expect(low.json.results.every((r: { status: string }) => r.status === 'accepted')).toBe(true)
    const urgent = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id, { options: { priority: 10, tags: ['urgent'] } }),
    })
    await waitForDelivery(
      tenant.apiKey,
      urgent.json.deliveryId,
      (view) => view.status === 'delivered',
    )
    const order = (await receivedAt(hook.path)).filter((r) => r.status === 200).map(priorityOf)
    // At most the one already in flight (plus the hung first attempt's retry) precede it.
    expect(order.indexOf('urgent')).toBeLessThanOrEqual(1)
    expect(order.filter((tag) => tag === 'low').length).toBeLessThan(15)
  })

  it('carries a payload too large for a queue message through R2, intact', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const data = {
      events: Array.from({ length: 3000 }, (_, i) => ({ id: `evt-${i}`, note: 'é'.repeat(20) })),
    }
    const accepted = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id, { payload: { type: 'bulk', data } }),
    })
    expect(accepted.status).toBe(202)
    const stored = await env.ARTIFACTS.list({ prefix: `orgs/${tenant.organizationId}/payloads/` })
    expect(stored.objects).toHaveLength(1)
    const sealed = await (await env.ARTIFACTS.get(stored.objects[0]?.key as string))?.text()
    expect(sealed).toMatch(/^v1\.k1\./)
    expect(sealed).not.toContain('evt-1')
    await waitForDelivery(
      tenant.apiKey,
      accepted.json.deliveryId,
      (view) => view.status === 'delivered',
    )
    const [request] = await receivedAt(hook.path)
    expect(JSON.parse(request.body).data).toEqual(data)
  })

  it('leaves no stored payload behind for a large request that was not accepted', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const data = { note: 'x'.repeat(120_000) }
    const body = seedDelivery(hook.id, {
      payload: { type: 'bulk', data },
      options: { idempotencyKey: 'big' },
    })
    expect((await call('/v1/deliveries', { token: tenant.apiKey, body })).status).toBe(202)
    expect((await call('/v1/deliveries', { token: tenant.apiKey, body })).status).toBe(200)
    const refused = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery('missing', { payload: { type: 'bulk', data } }),
    })
    expect(refused.status).toBe(422)
    const stored = async () =>
      (await env.ARTIFACTS.list({ prefix: `orgs/${tenant.organizationId}/payloads/` })).objects
        .length
    await vi.waitUntil(async () => (await stored()) === 1, { timeout: 5000 })
    expect(await stored()).toBe(1)
  })

  it('sends an escape-heavy payload that fits the limit in plain text but not as a message, through R2', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const data = '\\'.repeat(16_000)
    const accepted = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id, { payload: { type: 'escapes', data } }),
    })
    await waitForDelivery(
      tenant.apiKey,
      accepted.json.deliveryId,
      (view) => view.status === 'delivered',
    )
    const [request] = await receivedAt(hook.path)
    expect(JSON.parse(request.body).data).toBe(data)
  })

  it('ends pending work as skipped when its destination is deleted', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    await injectFault(hook.path, { mode: 'status', status: 503, times: 50 })
    await call('/v1/settings', {
      method: 'PUT',
      token: tenant.apiKey,
      body: { retry: { maxAttempts: 50, baseDelay: 5000, maxDelay: 5000 } },
    })
    const accepted = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id),
    })
    await waitForDelivery(
      tenant.apiKey,
      accepted.json.deliveryId,
      (view) => view.destinations[0].status === 'retrying',
    )
    expect(
      (await call(`/v1/destinations/${hook.id}`, { method: 'DELETE', token: tenant.apiKey }))
        .status,
    ).toBeLessThan(300)
    const view = await waitForDelivery(tenant.apiKey, accepted.json.deliveryId)
    expect(view.status).toBe('failed')
    expect(view.destinations[0]).toMatchObject({ status: 'skipped', reason: 'destination_deleted' })
  })

  it('recovers failed deliveries to a destination since a time', async () => {
    const tenant = await createTenant()
    await call('/v1/settings', {
      method: 'PUT',
      token: tenant.apiKey,
      body: { retry: { maxAttempts: 1, baseDelay: 100, maxDelay: 100 } },
    })
    const hook = await createWebhookDestination(tenant.apiKey)
    await injectFault(hook.path, { mode: 'status', status: 500, times: 2 })
    const since = new Date(Date.now() - 1000).toISOString()
    const ids: string[] = []
    for (let i = 0; i < 2; i++)
      ids.push(
        (await call('/v1/deliveries', { token: tenant.apiKey, body: seedDelivery(hook.id) })).json
          .deliveryId,
      )
    for (const id of ids) expect((await waitForDelivery(tenant.apiKey, id)).status).toBe('failed')
    const recovered = await call(`/v1/destinations/${hook.id}/recover`, {
      token: tenant.apiKey,
      body: { since },
    })
    expect(recovered.json).toEqual({ destinationId: hook.id, since, requeued: 2 })
    for (const id of ids)
      expect((await waitForDelivery(tenant.apiKey, id)).status).toBe('delivered')
  })

  it('replays every delivery since a time to a destination added later', async () => {
    const tenant = await createTenant()
    const first = await createWebhookDestination(tenant.apiKey)
    const since = new Date(Date.now() - 1000).toISOString()
    const ids: string[] = []
    for (let i = 0; i < 3; i++)
      ids.push(
        (await call('/v1/deliveries', { token: tenant.apiKey, body: seedDelivery(first.id) })).json
          .deliveryId,
      )
    for (const id of ids) await waitForDelivery(tenant.apiKey, id)
    const later = await createWebhookDestination(tenant.apiKey)
    const replayed = await call(`/v1/destinations/${later.id}/replay`, {
      token: tenant.apiKey,
      body: { since },
    })
    expect(replayed.json.requeued).toBe(3)
    for (const id of ids) {
      const view = await waitForDelivery(
        tenant.apiKey,
        id,
        (v) => v.destinations.length === 2 && v.status === 'delivered',
      )
      expect(view.destinations.map((d: { destinationId: string }) => d.destinationId)).toEqual([
        first.id,
        later.id,
      ])
    }
    const received = await receivedAt(later.path)
    expect(received.map((r) => JSON.parse(r.body).id).sort()).toEqual([...ids].sort())
    await clearFaults(later.path)
  })

  it('never replays an operational event, such as a rotated secret, to another destination', async () => {
    const tenant = await createTenant()
    const alerts = await createWebhookDestination(tenant.apiKey)
    const since = new Date(Date.now() - 1000).toISOString()
    const stub = organizationStub(env, tenant.organizationId)
    const event = await stub.emitOperationalEvent({
      type: 'operational.webhook_secret_rotated',
      data: { secret: 'whsec_not-for-anyone-else' },
      destinationIds: [alerts.id],
    })
    expect(event?.kind).toBe('accepted')
    const ordinary = (
      await call('/v1/deliveries', { token: tenant.apiKey, body: seedDelivery(alerts.id) })
    ).json
    const later = await createWebhookDestination(tenant.apiKey)
    const replayed = await call(`/v1/destinations/${later.id}/replay`, {
      token: tenant.apiKey,
      body: { since },
    })
    expect(replayed.json.requeued).toBe(1)
    await waitForDelivery(
      tenant.apiKey,
      ordinary.deliveryId,
      (v) => v.destinations.length === 2 && v.status === 'delivered',
    )
    const received = await receivedAt(later.path)
    expect(received.map((r) => JSON.parse(r.body).id)).toEqual([ordinary.deliveryId])
  })

  it('releases again a delivery whose queue message was lost, under the same webhook-id', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    await injectFault(hook.path, { mode: 'status', status: 503, times: 1 })
    await call('/v1/settings', {
      method: 'PUT',
      token: tenant.apiKey,
      body: { retry: { maxAttempts: 5, baseDelay: 60_000, maxDelay: 60_000 } },
    })
    const { deliveryId } = (
      await call('/v1/deliveries', { token: tenant.apiKey, body: seedDelivery(hook.id) })
    ).json
    await waitForDelivery(
      tenant.apiKey,
      deliveryId,
      (view) => view.destinations[0].status === 'retrying',
    )
    const stub = organizationStub(env, tenant.organizationId)
    // As if the retry had been released and its message then vanished from the queue.
    await runInDurableObject(stub, async (_instance: OrganizationDurableObject, state) => {
      state.storage.sql.exec(
        "UPDATE targets SET status = 'delivering', lease = 'lost', released_ms = ? WHERE delivery_id = ?",
        Date.now() - LEASE_MS - 1,
        deliveryId,
      )
      await state.storage.setAlarm(Date.now())
    })
    await runDurableObjectAlarm(stub)
    const view = await waitForDelivery(tenant.apiKey, deliveryId, (v) => v.status === 'delivered')
    expect(view.destinations[0].attempts).toBe(2)
    const requests = await receivedAt(hook.path)
    expect(requests.map((r) => r.status)).toEqual([503, 200])
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1)
  })

  it('releases due retries among queued deliveries by priority then sequence, and holds a retry not yet due', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const captured = await captureReleases(tenant.organizationId)
    const priorities = [5, 5, 5, 5, 7]
    const accepted = await call('/v1/deliveries/batch', {
      token: tenant.apiKey,
      body: {
        deliveries: priorities.map((priority) => seedDelivery(hook.id, { options: { priority } })),
      },
    })
    expect(accepted.status).toBe(200)
    await eventually('five releases', async () => captured.length === 5)
    const sequences = captured.map((message) => message.sequence).sort((a, b) => a - b)
    const [first, second, third, fourth, urgent] = sequences as number[]
    // As if every attempt had been lost: the first and third failed once and retry (the
    // third not before an hour), the others wait as queued.
    await insideOrganization(tenant.organizationId, (_instance, sql) => {
      const now = Date.now()
      const put = (sequence: number, status: string, attempts: number, dueMs: number) =>
        sql.exec(
          'UPDATE targets SET status = ?, attempts = ?, next_attempt_ms = ?, lease = NULL, released_ms = NULL WHERE sequence = ?',
          status,
          attempts,
          dueMs,
          sequence,
        )
      put(first as number, 'retrying', 1, now - 1000)
      put(second as number, 'queued', 0, now - 1000)
      put(third as number, 'retrying', 1, now + 3_600_000)
      put(fourth as number, 'queued', 0, now - 1000)
      put(urgent as number, 'queued', 0, now - 1000)
    })
    captured.length = 0

    await runDurableObjectAlarm(organizationStub(env, tenant.organizationId))
    expect(captured.map((message) => [message.sequence, message.attempt])).toEqual([
      [urgent, 1],
      [first, 2],
      [second, 1],
      [fourth, 1],
    ])
  })

  it("answers 404 for another tenant's delivery on every verb", async () => {
    const owner = await createTenant()
    const stranger = await createTenant()
    const hook = await createWebhookDestination(owner.apiKey)
    const { deliveryId } = (
      await call('/v1/deliveries', { token: owner.apiKey, body: seedDelivery(hook.id) })
    ).json
    for (const [method, path] of [
      ['GET', `/v1/deliveries/${deliveryId}`],
      ['GET', `/v1/deliveries/${deliveryId}/attempts`],
      ['POST', `/v1/deliveries/${deliveryId}/retry`],
      ['GET', `/v1/destinations/${hook.id}/health`],
    ] as const) {
      const response = await call(path, { method, token: stranger.apiKey })
      expect([path, response.status]).toEqual([path, 404])
      expect(response.json.error.code).toBe('not_found')
    }
    const recover = await call(`/v1/destinations/${hook.id}/recover`, {
      token: stranger.apiKey,
      body: { since: new Date().toISOString() },
    })
    expect(recover.status).toBe(404)
  })
})
