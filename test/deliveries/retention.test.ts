import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import type { OrganizationDurableObject } from '../../src/durable-objects/organization'
import { RetentionArchiver } from '../../src/durable-objects/organization/retention'
import { organizationStub } from '../../src/durable-objects/organization-stub'
import { openText } from '../../src/lib/at-rest'
import { call, createTenant } from '../support/api'
import {
  clearFaults,
  createWebhookDestination,
  injectFault,
  seedDelivery,
  waitForDelivery,
} from '../support/delivery-helpers'
import { deliver } from '../support/reliability'

const DAY = 86_400_000

describe('retention of delivery records', () => {
  it('archives settled records past retention to R2, sealed, one file per day, then deletes them', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const old = await deliver(tenant.apiKey, seedDelivery(hook.id))
    const recent = await deliver(tenant.apiKey, seedDelivery(hook.id))
    await waitForDelivery(tenant.apiKey, old.deliveryId)
    await waitForDelivery(tenant.apiKey, recent.deliveryId)

    const stub = organizationStub(env, tenant.organizationId)
    // Age the first delivery past the default 90 days and make housekeeping due.
    await runInDurableObject(stub, async (_instance: OrganizationDurableObject, state) => {
      const agedMs = Date.now() - 91 * DAY
      state.storage.sql.exec(
        'UPDATE deliveries SET accepted_ms = ?, accepted_at = ? WHERE id = ?',
        agedMs,
        new Date(agedMs).toISOString(),
        old.deliveryId,
      )
      state.storage.sql.exec("UPDATE meta SET value = '0' WHERE key = 'next_housekeeping_ms'")
      await state.storage.setAlarm(Date.now())
    })
    // The alarm armed for now may fire on its own before this runs it; either way it runs.
    await runDurableObjectAlarm(stub)
    await vi.waitUntil(
      async () =>
        (await call(`/v1/deliveries/${old.deliveryId}`, { token: tenant.apiKey })).status === 404,
      { timeout: 10_000 },
    )
    expect(
      (await call(`/v1/deliveries/${recent.deliveryId}`, { token: tenant.apiKey })).status,
    ).toBe(200)
    const day = new Date(Date.now() - 91 * DAY).toISOString().slice(0, 10)
    const object = await env.ARTIFACTS.get(
      `orgs/${tenant.organizationId}/archive/${day}.json.sealed`,
    )
    const sealed = (await object?.text()) as string
    expect(sealed).not.toContain(old.deliveryId)
    const archived = JSON.parse(await openText(env.ENCRYPTION_KEYS, sealed))
    expect(archived.map((record: { deliveryId: string }) => record.deliveryId)).toEqual([
      old.deliveryId,
    ])
    expect(archived[0].targets[0]).toMatchObject({ destination_id: hook.id, status: 'delivered' })
    expect(archived[0].attempts).toHaveLength(1)
  })

  it('keeps an unsettled delivery however old it is', async () => {
    const tenant = await createTenant()
    await call('/v1/settings', {
      method: 'PUT',
      token: tenant.apiKey,
      body: { retry: { maxAttempts: 20, baseDelay: 60_000, maxDelay: 60_000 } },
    })
    const hook = await createWebhookDestination(tenant.apiKey)
    await injectFault(hook.path, { mode: 'status', status: 503, times: 20 })
    const pending = await deliver(tenant.apiKey, seedDelivery(hook.id))
    await waitForDelivery(
      tenant.apiKey,
      pending.deliveryId,
      (view) => view.destinations[0].status === 'retrying',
    )
    const stub = organizationStub(env, tenant.organizationId)
    await runInDurableObject(stub, async (_instance: OrganizationDurableObject, state) => {
      state.storage.sql.exec(
        'UPDATE deliveries SET accepted_ms = ? WHERE id = ?',
        Date.now() - 400 * DAY,
        pending.deliveryId,
      )
      state.storage.sql.exec("UPDATE meta SET value = '0' WHERE key = 'next_housekeeping_ms'")
      await state.storage.setAlarm(Date.now())
    })
    await runDurableObjectAlarm(stub)
    const view = await call(`/v1/deliveries/${pending.deliveryId}`, { token: tenant.apiKey })
    expect(view.status).toBe(200)
    expect(view.json.destinations[0].status).toBe('retrying')
    await clearFaults(hook.path)
  })

  it('keeps a delivery that was queued again while its archive was being written', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const old = await deliver(tenant.apiKey, seedDelivery(hook.id))
    await waitForDelivery(tenant.apiKey, old.deliveryId)

    const stub = organizationStub(env, tenant.organizationId)
    const moved = await runInDurableObject(
      stub,
      async (_instance: OrganizationDurableObject, state) => {
        const sql = state.storage.sql
        sql.exec(
          'UPDATE deliveries SET accepted_ms = ? WHERE id = ?',
          Date.now() - 91 * DAY,
          old.deliveryId,
        )
        // While the archive goes to R2, the delivery is queued again as a replay would.
        const bucket = {
          get: (key: string) => env.ARTIFACTS.get(key),
          put: (...args: Parameters<R2Bucket['put']>) => {
            sql.exec(
              "UPDATE targets SET status = 'queued', attempts = 0, updated_ms = ? WHERE delivery_id = ?",
              Date.now(),
              old.deliveryId,
            )
            return env.ARTIFACTS.put(...args)
          },
        } as unknown as R2Bucket
        const archiver = new RetentionArchiver(sql, bucket, env.ENCRYPTION_KEYS)
        return archiver.archiveExpired(tenant.organizationId, Date.now(), 90)
      },
    )
    expect(moved).toBe(0)
    const view = await call(`/v1/deliveries/${old.deliveryId}`, { token: tenant.apiKey })
    expect(view.status).toBe(200)
    expect(view.json.destinations[0].destinationId).toBe(hook.id)
    expect(['queued', 'delivering', 'delivered']).toContain(view.json.destinations[0].status)
  })
})
