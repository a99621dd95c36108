import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { loadDestination } from '../../src/services/destinations/repository'
import { call, createTenant } from '../support/api'

type Tenant = Awaited<ReturnType<typeof createTenant>>

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const TOKEN = 'Bearer receiver-token-0123456789'

async function createHook(tenant: Tenant, extra: Record<string, unknown> = {}) {
  const created = await call('/v1/destinations', {
    token: tenant.apiKey,
    body: {
      label: 'Hook',
      type: 'webhook',
      description: 'Integration',
      config: {
        webhook: {
          url: 'https://example.com/hook',
          headers: { Authorization: TOKEN, 'X-Organization': 'hospital-a' },
          secret: SECRET,
        },
      },
      ...extra,
    },
  })
  expect(created.status).toBe(201)
  return created.json
}

function patch(tenant: Tenant, id: string, body: unknown) {
  return call(`/v1/destinations/${id}`, { method: 'PATCH', token: tenant.apiKey, body })
}

describe('PATCH /v1/destinations/{id}', () => {
  it('Should merge a partial update over the destination and keep everything else', async () => {
    const tenant = await createTenant()
    const created = await createHook(tenant)
    const response = await patch(tenant, created.id, {
      config: { webhook: { timeout: 20_000 } },
    })
    expect(response.status).toBe(200)
    expect(response.json).toEqual({
      ...created,
      config: { webhook: { ...created.config.webhook, timeout: 20_000 } },
      updatedAt: expect.any(String),
    })
    const loaded = await loadDestination(env, tenant.organizationId, created.id)
    expect(loaded?.config).toMatchObject({ secret: SECRET, headers: { Authorization: TOKEN } })
  })

  it('Should treat masked secrets sent back as unchanged', async () => {
    const tenant = await createTenant()
    const created = await createHook(tenant)
    const read = await call(`/v1/destinations/${created.id}`, { token: tenant.apiKey })
    const masked = read.json.config.webhook
    expect(masked.secret).toBe('****LaSw')
    expect(masked.headers.Authorization).toBe('****6789')
    const response = await patch(tenant, created.id, {
      config: { webhook: { ...masked, url: 'https://example.org/new' } },
    })
    expect(response.status).toBe(200)
    expect(response.json.config.webhook).toEqual({ ...masked, url: 'https://example.org/new' })
    const loaded = await loadDestination(env, tenant.organizationId, created.id)
    expect(loaded?.config).toMatchObject({
      url: 'https://example.org/new',
      secret: SECRET,
      headers: { Authorization: TOKEN, 'X-Organization': 'hospital-a' },
    })
  })

  it('Should refuse a masked value that is not the mask of the stored secret', async () => {
    const tenant = await createTenant()
    const created = await createHook(tenant)
    const response = await patch(tenant, created.id, {
      config: { webhook: { secret: '****abcd' } },
    })
    expect(response.status).toBe(400)
    expect(response.json.error).toEqual({
      code: 'validation_error',
      message:
        'config.webhook.secret: is a masked value that matches no stored secret; send the new secret in full, or the mask unchanged',
      details: {
        issues: [
          {
            path: 'config.webhook.secret',
            message:
              'is a masked value that matches no stored secret; send the new secret in full, or the mask unchanged',
          },
        ],
      },
      requestId: expect.any(String),
    })
  })

  it('Should replace a secret sent in full at once, without a grace period', async () => {
    const tenant = await createTenant()
    const created = await createHook(tenant)
    await call(`/v1/destinations/${created.id}/rotate-secret`, {
      method: 'POST',
      token: tenant.apiKey,
    })
    const replacement = 'whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3'
    const response = await patch(tenant, created.id, {
      config: { webhook: { secret: replacement } },
    })
    expect(response.status).toBe(200)
    expect(response.json.config.webhook.secret).toBe('****NTY3')
    expect(response.json.previousSecrets).toEqual([])
    const loaded = await loadDestination(env, tenant.organizationId, created.id)
    expect(loaded?.config).toMatchObject({ secret: replacement, previousSecrets: [] })
  })

  it('Should remove fields set to null (JSON Merge Patch)', async () => {
    const tenant = await createTenant()
    const created = await createHook(tenant)
    const response = await patch(tenant, created.id, {
      description: null,
      config: { webhook: { headers: { 'X-Organization': null } } },
    })
    expect(response.status).toBe(200)
    expect(response.json.description).toBeNull()
    expect(response.json.config.webhook.headers).toEqual({ Authorization: '****6789' })
  })

  it('Should validate the merged result exactly like a create', async () => {
    const tenant = await createTenant()
    const created = await createHook(tenant)
    const response = await patch(tenant, created.id, {
      config: { webhook: { timeout: 5, url: 'https://10.1.2.3/' } },
    })
    expect(response.status).toBe(400)
    expect(response.json.error.details).toEqual({
      issues: [
        { path: 'config.webhook.timeout', message: 'Too small: expected number to be >=1000' },
      ],
    })
    const guarded = await patch(tenant, created.id, {
      config: { webhook: { url: 'https://10.1.2.3/' } },
    })
    expect(guarded.json.error.details).toEqual({
      issues: [
        {
          path: 'config.webhook.url',
          message:
            'must not point at a private address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) (10.1.2.3)',
        },
      ],
    })
    const unchanged = await call(`/v1/destinations/${created.id}`, { token: tenant.apiKey })
    expect(unchanged.json).toEqual(created)
  })

  it('Should refuse a change of type and unknown fields', async () => {
    const tenant = await createTenant()
    const created = await createHook(tenant)
    const retyped = await patch(tenant, created.id, { type: 'storage' })
    expect(retyped.status).toBe(400)
    expect(retyped.json.error.details).toEqual({
      issues: [
        {
          path: 'type',
          message:
            'cannot change (this is a webhook destination); create a new destination instead',
        },
      ],
    })
    const unknown = await patch(tenant, created.id, { id: 'dst_other' })
    expect(unknown.status).toBe(400)
    expect(unknown.json.error.details).toEqual({
      issues: [{ path: '(body)', message: 'Unrecognized key: "id"' }],
    })
  })

  it('Should answer 409 label_taken when renaming onto another destination, and allow keeping its own label', async () => {
    const tenant = await createTenant()
    const first = await createHook(tenant)
    const second = await createHook(tenant, { label: 'Second' })
    const clash = await patch(tenant, second.id, { label: first.label })
    expect(clash.status).toBe(409)
    expect(clash.json.error.code).toBe('label_taken')
    const same = await patch(tenant, first.id, { label: first.label, description: 'kept' })
    expect(same.status).toBe(200)
  })

  it('Should disable and re-enable with a reason', async () => {
    const tenant = await createTenant()
    const created = await createHook(tenant)
    const off = await patch(tenant, created.id, { disabled: true })
    expect(off.json).toMatchObject({ disabled: true, disabledReason: 'disabled through the API' })
    const on = await patch(tenant, created.id, { disabled: false })
    expect(on.json).toMatchObject({ disabled: false, disabledReason: null })
  })

  it('Should generate an e-mail encryption key when encryption is switched on, shown in that response only', async () => {
    const tenant = await createTenant()
    const created = await call('/v1/destinations', {
      token: tenant.apiKey,
      body: {
        label: 'Mail',
        type: 'email',
        config: {
          email: {
            service: 'ses',
            config: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'tenant-own-secret-key' },
            from: 'audit@hospital.com',
            subject: 'Audit',
            recipients: ['compliance@hospital.com'],
          },
        },
      },
    })
    const enabled = await patch(tenant, created.json.id, {
      config: { email: { encryption: { enabled: true } } },
    })
    expect(enabled.status).toBe(200)
    const key: string = enabled.json.config.email.encryption.key
    expect(key).toMatch(/^[A-Za-z0-9+/]{43}=$/)
    const again = await patch(tenant, created.json.id, { description: 'no key shown' })
    expect(again.json.config.email.encryption.key).toBe(`****${key.slice(-4)}`)
  })

  it('Should record before and after, masked, in the audit trail', async () => {
    const tenant = await createTenant()
    const created = await createHook(tenant)
    const updated = await patch(tenant, created.id, { description: 'Audited' })
    const audit = await call(`/v1/audit-log?resourceId=${created.id}&limit=1`, {
      token: tenant.apiKey,
    })
    expect(audit.json.entries).toEqual([
      {
        id: expect.stringMatching(/^aud_/),
        organizationId: tenant.organizationId,
        actor: `api_key:${tenant.keyId}`,
        action: 'destination.updated',
        resourceType: 'destination',
        resourceId: created.id,
        before: created,
        after: updated.json,
        requestId: expect.stringMatching(/^req_/),
        createdAt: expect.any(String),
      },
    ])
    expect(audit.text).not.toContain(SECRET.slice(6, -4))
  })
})
