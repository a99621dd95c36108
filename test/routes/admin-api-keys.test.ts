import { listDurableObjectIds } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, call, createTenant } from '../support/api'

describe('admin api keys', () => {
  it('shows a key once, lists it without the secret and with lastUsedAt', async () => {
    const tenant = await createTenant()
    const listPath = `/v1/admin/organizations/${tenant.organizationId}/api-keys`
    expect(tenant.apiKey).toMatch(
      new RegExp(`^dsk_${tenant.organizationId}_[a-z2-7]{20}_[0-9a-f]{64}$`),
    )
    await call('/v1/settings', { token: tenant.apiKey })
    const listed = await call(listPath, { token: ADMIN_TOKEN })
    expect(listed.status).toBe(200)
    expect(listed.text).not.toContain(tenant.apiKey.slice(-64))
    expect(listed.json.apiKeys[0]).toMatchObject({
      id: tenant.keyId,
      name: 'test',
      revokedAt: null,
    })
    expect(listed.json.apiKeys[0].lastUsedAt).toEqual(expect.any(String))
  })

  it('revokes a key with effect on the next request', async () => {
    const tenant = await createTenant()
    const revoke = await call(
      `/v1/admin/organizations/${tenant.organizationId}/api-keys/${tenant.keyId}`,
      {
        method: 'DELETE',
        token: ADMIN_TOKEN,
      },
    )
    expect(revoke.status).toBe(200)
    expect(revoke.json.revokedAt).toEqual(expect.any(String))
    const refused = await call('/v1/settings', { token: tenant.apiKey })
    expect(refused.status).toBe(401)
    expect(refused.json.error).toMatchObject({
      code: 'unauthorized',
      message: 'The API key is revoked',
    })
    expect(refused.headers.get('www-authenticate')).toContain('Bearer')
  })

  it('refuses an expired key', async () => {
    const tenant = await createTenant()
    const expiresAt = new Date(Date.now() + 1500).toISOString()
    const issued = await call(`/v1/admin/organizations/${tenant.organizationId}/api-keys`, {
      token: ADMIN_TOKEN,
      body: { name: 'short', expiresAt },
    })
    expect(issued.json.expiresAt).toBe(expiresAt)
    expect((await call('/v1/settings', { token: issued.json.key })).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 1600))
    const refused = await call('/v1/settings', { token: issued.json.key })
    expect(refused.json.error.message).toBe('The API key is expired')
  })

  it('rejects an expiry in the past, naming the field', async () => {
    const tenant = await createTenant()
    const response = await call(`/v1/admin/organizations/${tenant.organizationId}/api-keys`, {
      token: ADMIN_TOKEN,
      body: { name: 'old', expiresAt: '2020-01-01T00:00:00Z' },
    })
    expect(response.status).toBe(400)
    expect(response.json.error.details.issues).toEqual([
      { path: 'expiresAt', message: 'must be in the future' },
    ])
  })

  it('answers 404 for a key of another organization', async () => {
    const a = await createTenant()
    const b = await createTenant()
    const response = await call(`/v1/admin/organizations/${b.organizationId}/api-keys/${a.keyId}`, {
      method: 'DELETE',
      token: ADMIN_TOKEN,
    })
    expect(response.status).toBe(404)
    expect((await call('/v1/settings', { token: a.apiKey })).status).toBe(200)
  })
})

describe('keys of organizations that do not exist', () => {
  it('answers 401 without creating an object for the invented organization', async () => {
    const before = (await listDurableObjectIds(env.ORGANIZATIONS)).length
    const invented = `dsk_ghost-org-${Date.now().toString(36)}_${'a'.repeat(20)}_${'0'.repeat(64)}`
    const response = await call('/v1/destinations', { token: invented })
    expect(response.status).toBe(401)
    expect(response.json.error.message).toBe('The API key is not valid')
    expect((await listDurableObjectIds(env.ORGANIZATIONS)).length).toBe(before)
  })
})
