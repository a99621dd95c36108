import { describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, call, createTenant, uniqueOrganizationId } from '../support/api'

describe('admin organizations', () => {
  it('creates an organization and answers 409 for the same id', async () => {
    const id = uniqueOrganizationId('hospital')
    const created = await call('/v1/admin/organizations', {
      token: ADMIN_TOKEN,
      body: { id, name: 'General Hospital' },
    })
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({ id, name: 'General Hospital', status: 'active' })
    expect(created.headers.get('x-request-id')).toMatch(/^req_/)

    const again = await call('/v1/admin/organizations', {
      token: ADMIN_TOKEN,
      body: { id, name: 'Other' },
    })
    expect(again.status).toBe(409)
    expect(again.json).toEqual({
      error: {
        code: 'organization_exists',
        message: `Organization "${id}" already exists`,
        requestId: again.headers.get('x-request-id'),
      },
    })
  })

  it('rejects an id that is not a slug, naming the field', async () => {
    const response = await call('/v1/admin/organizations', {
      token: ADMIN_TOKEN,
      body: { id: 'Bad_Id', name: 'x' },
    })
    expect(response.status).toBe(400)
    expect(response.json.error.code).toBe('validation_error')
    expect(response.json.error.details.issues).toEqual([
      { path: 'id', message: 'must be a slug: lowercase letters, digits and single hyphens' },
    ])
  })

  it('answers 401 with WWW-Authenticate without the admin token', async () => {
    const none = await call('/v1/admin/organizations')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="audit-delivery"')
    const wrong = await call('/v1/admin/organizations', { token: 'not-the-token' })
    expect(wrong.status).toBe(401)
    expect(wrong.json.error.code).toBe('unauthorized')
  })

  it('refuses a tenant key on admin routes', async () => {
    const tenant = await createTenant()
    const response = await call('/v1/admin/organizations', { token: tenant.apiKey })
    expect(response.status).toBe(401)
  })

  it('disables an organization so its keys stop working, and re-enables it', async () => {
    const tenant = await createTenant()
    expect((await call('/v1/settings', { token: tenant.apiKey })).status).toBe(200)
    const disabled = await call(`/v1/admin/organizations/${tenant.organizationId}`, {
      method: 'PATCH',
      token: ADMIN_TOKEN,
      body: { status: 'disabled' },
    })
    expect(disabled.json.status).toBe('disabled')
    const refused = await call('/v1/settings', { token: tenant.apiKey })
    expect(refused.status).toBe(403)
    expect(refused.json.error.code).toBe('organization_disabled')
    await call(`/v1/admin/organizations/${tenant.organizationId}`, {
      method: 'PATCH',
      token: ADMIN_TOKEN,
      body: { status: 'active' },
    })
    expect((await call('/v1/settings', { token: tenant.apiKey })).status).toBe(200)
  })

  it('offers the export before deleting, then purges', async () => {
    const tenant = await createTenant()
    const path = `/v1/admin/organizations/${tenant.organizationId}`
    const first = await call(path, { method: 'DELETE', token: ADMIN_TOKEN })
    expect(first.status).toBe(409)
    expect(first.json.error.details).toEqual({ export: `${path}/export` })
    const exported = await call(`${path}/export`, { token: ADMIN_TOKEN })
    expect(exported.status).toBe(200)
    expect(exported.json.organization.id).toBe(tenant.organizationId)
    expect(exported.json.apiKeys).toHaveLength(1)
    const deleted = await call(`${path}?confirm=true`, { method: 'DELETE', token: ADMIN_TOKEN })
    expect(deleted.json).toEqual({ id: tenant.organizationId, deleted: true })
    expect((await call(path, { token: ADMIN_TOKEN })).status).toBe(404)
    expect((await call('/v1/settings', { token: tenant.apiKey })).status).toBe(401)
  })

  it('lists organizations a page at a time', async () => {
    await createTenant('page')
    await createTenant('page')
    const first = await call('/v1/admin/organizations?limit=1', { token: ADMIN_TOKEN })
    expect(first.json.organizations).toHaveLength(1)
    expect(first.json.nextCursor).toEqual(expect.any(String))
    const second = await call(`/v1/admin/organizations?limit=1&cursor=${first.json.nextCursor}`, {
      token: ADMIN_TOKEN,
    })
    expect(second.json.organizations[0].id > first.json.organizations[0].id).toBe(true)
    const bad = await call('/v1/admin/organizations?cursor=zzz', { token: ADMIN_TOKEN })
    expect(bad.status).toBe(400)
    expect(bad.json.error.details.issues[0].path).toBe('query.cursor')
  })
})
