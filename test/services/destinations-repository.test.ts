import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import {
  listDestinationSummaries,
  loadDestination,
  setDestinationDisabled,
} from '../../src/services/destinations/repository'
import { openBag, sealBag } from '../../src/services/destinations/sealing'
import { call, createTenant } from '../support/api'

type Tenant = Awaited<ReturnType<typeof createTenant>>

async function createHook(tenant: Tenant, body: Record<string, unknown> = {}) {
  const created = await call('/v1/destinations', {
    token: tenant.apiKey,
    body: {
      label: 'Hook',
      type: 'webhook',
      config: { webhook: { url: 'https://example.com/hook' } },
      ...body,
    },
  })
  expect(created.status).toBe(201)
  return created.json
}

describe('loadDestination', () => {
  it('Should return the destination with its secret opened, or null for another organization', async () => {
    const owner = await createTenant()
    const other = await createTenant()
    const created = await createHook(owner)
    const loaded = await loadDestination(env, owner.organizationId, created.id)
    expect(loaded).toEqual({
      id: created.id,
      organizationId: owner.organizationId,
      label: 'Hook',
      type: 'webhook',
      description: null,
      isDefault: false,
      disabled: false,
      disabledReason: null,
      delivery: { ordering: 'parallel', onExhausted: 'skip' },
      config: {
        url: 'https://example.com/hook',
        method: 'POST',
        headers: {},
        timeout: 10_000,
        secret: created.config.webhook.secret,
        previousSecrets: [],
      },
      createdAt: created.createdAt,
      updatedAt: created.updatedAt,
    })
    expect(await loadDestination(env, other.organizationId, created.id)).toBeNull()
    expect(await loadDestination(env, owner.organizationId, 'dst_aaaaaaaaaaaaaaaaaaaa')).toBeNull()
  })

  it('Should hand out only the previous secrets still inside their grace period', async () => {
    const tenant = await createTenant()
    const created = await createHook(tenant)
    const row = await env.DB.prepare('SELECT secrets FROM destinations WHERE id = ?')
      .bind(created.id)
      .first<{ secrets: string }>()
    const bag = await openBag(env, row?.secrets ?? null)
    const now = Date.now()
    bag.previousSecrets = [
      {
        secret: 'whsec_stillvalidstillvalidstillvalid00',
        expiresAt: new Date(now + 60_000).toISOString(),
      },
      {
        secret: 'whsec_expiredexpiredexpiredexpired000',
        expiresAt: new Date(now - 1).toISOString(),
      },
    ]
    await env.DB.prepare('UPDATE destinations SET secrets = ? WHERE id = ?')
      .bind(await sealBag(env, bag), created.id)
      .run()
    const loaded = await loadDestination(env, tenant.organizationId, created.id)
    expect(loaded?.type === 'webhook' && loaded.config.previousSecrets).toEqual([
      bag.previousSecrets[0],
    ])
    const read = await call(`/v1/destinations/${created.id}`, { token: tenant.apiKey })
    expect(read.json.previousSecrets).toEqual([
      { secret: '****id00', expiresAt: bag.previousSecrets[0]?.expiresAt },
    ])
  })
})

describe('listDestinationSummaries', () => {
  it("Should list the organization's destinations for routing, without config", async () => {
    const tenant = await createTenant()
    const first = await createHook(tenant, { isDefault: true })
    const second = await createHook(tenant, {
      label: 'Strict',
      delivery: { ordering: 'strict', onExhausted: 'wait', maxConcurrency: 1 },
      disabled: true,
    })
    await createHook(await createTenant(), { label: 'Elsewhere' })
    expect(await listDestinationSummaries(env, tenant.organizationId)).toEqual([
      {
        id: first.id,
        label: 'Hook',
        type: 'webhook',
        isDefault: true,
        disabled: false,
        disabledReason: null,
        delivery: { ordering: 'parallel', onExhausted: 'skip' },
        updatedAt: expect.any(String),
      },
      {
        id: second.id,
        label: 'Strict',
        type: 'webhook',
        isDefault: false,
        disabled: true,
        disabledReason: 'disabled through the API',
        delivery: { ordering: 'strict', onExhausted: 'wait', maxConcurrency: 1 },
        updatedAt: expect.any(String),
      },
    ])
  })
})

describe('setDestinationDisabled', () => {
  it('Should disable with the reason, audit it as system, and re-enable', async () => {
    const tenant = await createTenant()
    const created = await createHook(tenant)
    const org = tenant.organizationId
    expect(await setDestinationDisabled(env, org, created.id, true, 'http_410')).toBe(true)
    const read = await call(`/v1/destinations/${created.id}`, { token: tenant.apiKey })
    expect(read.json).toMatchObject({ disabled: true, disabledReason: 'http_410' })
    expect(await setDestinationDisabled(env, org, created.id, false, null)).toBe(true)
    const audit = await call(`/v1/audit-log?resourceId=${created.id}&limit=2`, {
      token: tenant.apiKey,
    })
    expect(audit.json.entries).toEqual([
      expect.objectContaining({
        actor: 'system',
        action: 'destination.enabled',
        before: { disabled: true, disabledReason: 'http_410' },
        after: { disabled: false, disabledReason: null },
      }),
      expect.objectContaining({
        actor: 'system',
        action: 'destination.disabled',
        before: { disabled: false, disabledReason: null },
        after: { disabled: true, disabledReason: 'http_410' },
      }),
    ])
  })

  it("Should change nothing for another organization's destination", async () => {
    const owner = await createTenant()
    const other = await createTenant()
    const created = await createHook(owner)
    expect(await setDestinationDisabled(env, other.organizationId, created.id, true, 'x')).toBe(
      false,
    )
    const read = await call(`/v1/destinations/${created.id}`, { token: owner.apiKey })
    expect(read.json.disabled).toBe(false)
  })
})
