import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { auditStatement } from '../../src/services/audit-log'
import { ADMIN_TOKEN, call, createTenant } from '../support/api'
import { describeSecurityCases } from '../support/security-cases'

type Tenant = Awaited<ReturnType<typeof createTenant>>

function createHook(tenant: Tenant, label: string) {
  return call('/v1/destinations', {
    token: tenant.apiKey,
    body: { label, type: 'webhook', config: { webhook: { url: 'https://example.com/hook' } } },
  })
}

/** Writes an audit entry at a chosen time, as the change services would have. */
async function entryAt(organizationId: string, createdAt: string, resourceId: string) {
  const statement = auditStatement(
    env.DB,
    { organizationId, action: 'destination.updated', resourceType: 'destination', resourceId },
    'system',
    null,
  )
  await statement.run()
  await env.DB.prepare(
    'UPDATE audit_log SET created_at = ? WHERE organization_id = ? AND resource_id = ?',
  )
    .bind(createdAt, organizationId, resourceId)
    .run()
}

describe('GET /v1/audit-log', () => {
  it('Should list who changed what, newest first, with masked before and after', async () => {
    const tenant = await createTenant()
    const created = await createHook(tenant, 'Audited')
    await call(`/v1/destinations/${created.json.id}`, { method: 'DELETE', token: tenant.apiKey })
    const response = await call('/v1/audit-log', { token: tenant.apiKey })
    expect(response.status).toBe(200)
    expect(response.json.nextCursor).toBeNull()
    expect(response.json.entries.map((e: { action: string }) => e.action)).toEqual([
      'destination.deleted',
      'destination.created',
      'api_key.issued',
    ])
    const [deleted, createdEntry, keyIssued] = response.json.entries
    expect(deleted).toEqual({
      id: expect.stringMatching(/^aud_[a-z2-7]{20}$/),
      organizationId: tenant.organizationId,
      actor: `api_key:${tenant.keyId}`,
      action: 'destination.deleted',
      resourceType: 'destination',
      resourceId: created.json.id,
      before: {
        ...created.json,
        config: {
          webhook: { ...created.json.config.webhook, secret: expect.stringMatching(/^\*{4}.{4}$/) },
        },
      },
      after: null,
      requestId: expect.stringMatching(/^req_/),
      createdAt: expect.any(String),
    })
    expect(createdEntry.before).toBeNull()
    expect(createdEntry.after.id).toBe(created.json.id)
    expect(keyIssued).toMatchObject({
      actor: 'admin',
      resourceType: 'api_key',
      resourceId: tenant.keyId,
    })
    expect(response.text).not.toContain(created.json.config.webhook.secret.slice(6, -4))
  })

  it('Should record the API key revocation done by the operator', async () => {
    const tenant = await createTenant()
    const second = await call(`/v1/admin/organizations/${tenant.organizationId}/api-keys`, {
      token: ADMIN_TOKEN,
      body: { name: 'second' },
    })
    await call(`/v1/admin/organizations/${tenant.organizationId}/api-keys/${second.json.id}`, {
      method: 'DELETE',
      token: ADMIN_TOKEN,
    })
    const response = await call(`/v1/audit-log?resourceType=api_key&resourceId=${second.json.id}`, {
      token: tenant.apiKey,
    })
    expect(response.json.entries.map((e: { action: string }) => e.action)).toEqual([
      'api_key.revoked',
      'api_key.issued',
    ])
  })

  it("Should show only the key's organization's entries", async () => {
    const a = await createTenant()
    const b = await createTenant()
    await createHook(b, 'Theirs')
    const response = await call('/v1/audit-log?resourceType=destination', { token: a.apiKey })
    expect(response.json.entries).toEqual([])
  })

  it('Should filter by resource type and id', async () => {
    const tenant = await createTenant()
    const first = await createHook(tenant, 'First')
    await createHook(tenant, 'Second')
    const byId = await call(`/v1/audit-log?resourceId=${first.json.id}`, { token: tenant.apiKey })
    expect(byId.json.entries.map((e: { resourceId: string }) => e.resourceId)).toEqual([
      first.json.id,
    ])
    const byType = await call('/v1/audit-log?resourceType=destination', { token: tenant.apiKey })
    expect(byType.json.entries).toHaveLength(2)
    const settings = await call('/v1/audit-log?resourceType=settings', { token: tenant.apiKey })
    expect(settings.json.entries).toEqual([])
  })

  it('Should filter by startDate and endDate, inclusive, in any offset', async () => {
    const tenant = await createTenant()
    const org = tenant.organizationId
    await entryAt(org, '2026-01-01T00:00:00.000Z', 'dst_jan')
    await entryAt(org, '2026-02-01T00:00:00.000Z', 'dst_feb')
    await entryAt(org, '2026-03-01T00:00:00.000Z', 'dst_mar')
    const ids = async (query: string) => {
      const response = await call(`/v1/audit-log?resourceType=destination&${query}`, {
        token: tenant.apiKey,
      })
      expect(response.status).toBe(200)
      return response.json.entries.map((e: { resourceId: string }) => e.resourceId)
    }
    expect(await ids('startDate=2026-02-01T00:00:00Z')).toEqual(['dst_mar', 'dst_feb'])
    expect(await ids('endDate=2026-02-01T00:00:00Z')).toEqual(['dst_feb', 'dst_jan'])
    expect(await ids('startDate=2026-01-15T00:00:00Z&endDate=2026-02-15T00:00:00Z')).toEqual([
      'dst_feb',
    ])
    // 01:00 at +01:00 is midnight UTC: the February entry is included.
    expect(await ids(`startDate=${encodeURIComponent('2026-02-01T01:00:00+01:00')}`)).toEqual([
      'dst_mar',
      'dst_feb',
    ])
  })

  it('Should page newest first with nextCursor', async () => {
    const tenant = await createTenant()
    const org = tenant.organizationId
    const expected: string[] = []
    for (let day = 1; day <= 5; day++) {
      await entryAt(org, `2026-04-0${day}T00:00:00.000Z`, `dst_day${day}`)
      expected.unshift(`dst_day${day}`)
    }
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const query: string = cursor ? `&cursor=${cursor}` : ''
      const page = await call(`/v1/audit-log?resourceType=destination&limit=2${query}`, {
        token: tenant.apiKey,
      })
      seen.push(...page.json.entries.map((e: { resourceId: string }) => e.resourceId))
      cursor = page.json.nextCursor
    } while (cursor)
    expect(seen).toEqual(expected)
  })

  it('Should refuse bad filters with 400 naming the field', async () => {
    const tenant = await createTenant()
    const cases: Array<[string, { path: string; message: string }]> = [
      [
        'resourceType=user',
        {
          path: 'query.resourceType',
          message:
            'Invalid option: expected one of "destination"|"api_key"|"settings"|"organization"|"alert_rule"|"delivery"|"download"',
        },
      ],
      ['startDate=yesterday', { path: 'query.startDate', message: 'Invalid ISO datetime' }],
      [
        'startDate=2026-02-01T00:00:00Z&endDate=2026-01-01T00:00:00Z',
        { path: 'query.endDate', message: 'must not be before startDate' },
      ],
      ['cursor=abc', { path: 'query.cursor', message: 'is not a cursor this service issued' }],
    ]
    for (const [query, issue] of cases) {
      const response = await call(`/v1/audit-log?${query}`, { token: tenant.apiKey })
      expect(response.status, query).toBe(400)
      expect(response.json).toEqual({
        error: {
          code: 'validation_error',
          message: `${issue.path}: ${issue.message}`,
          details: { issues: [issue] },
          requestId: expect.any(String),
        },
      })
    }
  })
})

describeSecurityCases('audit log', {
  missingId: 'aud_aaaaaaaaaaaaaaaaaaaa',
  routes: [{ method: 'GET', path: '/v1/audit-log' }],
})
