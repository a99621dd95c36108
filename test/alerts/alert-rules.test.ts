import { describe, expect, it } from 'vitest'
import { call, createTenant } from '../support/api'
import { createWebhookDestination } from '../support/delivery-helpers'

type Tenant = Awaited<ReturnType<typeof createTenant>>

function error(code: string, path: string, message: string) {
  return {
    error: {
      code,
      message: `${path}: ${message}`,
      details: { issues: [{ path, message }] },
      requestId: expect.any(String),
    },
  }
}

async function setup() {
  const tenant = await createTenant('alerts')
  const hook = await createWebhookDestination(tenant.apiKey, { label: 'on-call hook' })
  return { tenant, hook }
}

function failureRateRule(notify: string[], overrides: Record<string, unknown> = {}) {
  return {
    name: 'Too many failures',
    kind: 'failure_rate',
    condition: { threshold: 0.2, windowMinutes: 10, minOutcomes: 5 },
    notify,
    ...overrides,
  }
}

async function create(tenant: Tenant, body: Record<string, unknown>) {
  return call('/v1/alert-rules', { token: tenant.apiKey, body })
}

async function auditOf(tenant: Tenant, id: string) {
  const response = await call(`/v1/audit-log?resourceType=alert_rule&resourceId=${id}`, {
    token: tenant.apiKey,
  })
  return response.json.entries as {
    action: string
    before: unknown
    after: unknown
    actor: string
  }[]
}

describe('alert rules: create, read, list', () => {
  it('Should create a rule with defaults filled in, and audit it', async () => {
    const { tenant, hook } = await setup()
    const created = await create(tenant, {
      name: 'Slow webhook',
      kind: 'latency',
      condition: { thresholdMs: 2000 },
      destinationId: hook.id,
      notify: [hook.id],
    })
    expect(created.status).toBe(201)
    expect(created.json).toEqual({
      id: expect.stringMatching(/^alr_[a-z2-7]{20}$/),
      organizationId: tenant.organizationId,
      name: 'Slow webhook',
      kind: 'latency',
      condition: { percentile: 'p95', thresholdMs: 2000, windowMinutes: 15, minAttempts: 10 },
      destinationId: hook.id,
      notify: [hook.id],
      cooldownMinutes: 60,
      enabled: true,
      lastFiredAt: null,
      createdAt: expect.any(String),
      updatedAt: created.json.createdAt,
    })
    const read = await call(`/v1/alert-rules/${created.json.id}`, { token: tenant.apiKey })
    expect(read.json).toEqual(created.json)
    expect(await auditOf(tenant, created.json.id)).toEqual([
      expect.objectContaining({
        action: 'alert_rule.created',
        actor: `api_key:${tenant.keyId}`,
        before: null,
        after: created.json,
      }),
    ])
  })

  it('Should list rules oldest first, in pages', async () => {
    const { tenant, hook } = await setup()
    const ids: string[] = []
    for (const name of ['one', 'two', 'three'])
      ids.push((await create(tenant, failureRateRule([hook.id], { name }))).json.id)
    const first = await call('/v1/alert-rules?limit=2', { token: tenant.apiKey })
    expect(first.status).toBe(200)
    expect(first.json.alertRules.map((r: { id: string }) => r.id)).toEqual(ids.slice(0, 2))
    const second = await call(`/v1/alert-rules?limit=2&cursor=${first.json.nextCursor}`, {
      token: tenant.apiKey,
    })
    expect(second.json).toEqual({
      alertRules: [expect.objectContaining({ id: ids[2] })],
      nextCursor: null,
    })
  })
})

describe('alert rules: validation', () => {
  it('Should name the condition field of the kind that is wrong', async () => {
    const { tenant, hook } = await setup()
    const response = await create(
      tenant,
      failureRateRule([hook.id], { condition: { threshold: 1.5, windowMinutes: 10 } }),
    )
    expect(response.status).toBe(400)
    expect(response.json).toEqual(
      error('validation_error', 'condition.threshold', 'Too big: expected number to be <=1'),
    )
  })

  it('Should refuse a condition field of another kind', async () => {
    const { tenant, hook } = await setup()
    const response = await create(tenant, {
      name: 'Stuck',
      kind: 'backlog_age',
      condition: { thresholdSeconds: 600, windowMinutes: 5 },
      notify: [hook.id],
    })
    expect(response.status).toBe(400)
    expect(response.json).toEqual(
      error('validation_error', 'condition', 'Unrecognized key: "windowMinutes"'),
    )
  })

  it('Should refuse an unknown kind', async () => {
    const { tenant, hook } = await setup()
    const response = await create(tenant, failureRateRule([hook.id], { kind: 'uptime' }))
    expect(response.status).toBe(400)
    expect(response.json).toEqual(
      error(
        'validation_error',
        'kind',
        "Invalid discriminator value. Expected 'failure_rate' | 'consecutive_failures' | 'backlog_age' | 'latency'",
      ),
    )
  })

  it('Should refuse an empty notify list and a negative cool-down', async () => {
    const { tenant } = await setup()
    const empty = await create(tenant, failureRateRule([]))
    expect(empty.json).toEqual(
      error('validation_error', 'notify', 'Too small: expected array to have >=1 items'),
    )
    const { hook } = await setup()
    const cooldown = await create(tenant, failureRateRule([hook.id], { cooldownMinutes: -1 }))
    expect(cooldown.json).toEqual(
      error('validation_error', 'cooldownMinutes', 'Too small: expected number to be >=0'),
    )
  })

  it("Should answer 422 destination_not_found for a notify id that is not the organization's", async () => {
    const { tenant, hook } = await setup()
    const other = await setup()
    const response = await create(tenant, failureRateRule([hook.id, other.hook.id]))
    expect(response.status).toBe(422)
    expect(response.json).toEqual(
      error('destination_not_found', 'notify[1]', `no destination with id "${other.hook.id}"`),
    )
  })

  it('Should answer 422 destination_not_found for a watched destination that does not exist', async () => {
    const { tenant, hook } = await setup()
    const response = await create(
      tenant,
      failureRateRule([hook.id], { destinationId: 'dst_aaaaaaaaaaaaaaaaaaaa' }),
    )
    expect(response.status).toBe(422)
    expect(response.json).toEqual(
      error(
        'destination_not_found',
        'destinationId',
        'no destination with id "dst_aaaaaaaaaaaaaaaaaaaa"',
      ),
    )
  })

  it('Should answer 422 when an alert would go to a storage destination', async () => {
    const { tenant, hook } = await setup()
    const storage = await call('/v1/destinations', {
      token: tenant.apiKey,
      body: { label: 'archive', type: 'storage', config: { storage: { provider: 'r2' } } },
    })
    expect(storage.status).toBe(201)
    const response = await create(tenant, failureRateRule([hook.id, storage.json.id]))
    expect(response.status).toBe(422)
    expect(response.json).toEqual(
      error(
        'unprocessable',
        'notify[1]',
        'destination "archive" is a storage destination; alerts go to webhook or email destinations',
      ),
    )
  })
})

describe('alert rules: update and delete', () => {
  it('Should change only the given fields and audit before and after', async () => {
    const { tenant, hook } = await setup()
    const created = (await create(tenant, failureRateRule([hook.id]))).json
    const updated = await call(`/v1/alert-rules/${created.id}`, {
      method: 'PATCH',
      token: tenant.apiKey,
      body: { cooldownMinutes: 5, enabled: false },
    })
    expect(updated.status).toBe(200)
    expect(updated.json).toEqual({
      ...created,
      cooldownMinutes: 5,
      enabled: false,
      updatedAt: expect.any(String),
    })
    const [change] = await auditOf(tenant, created.id)
    expect(change).toMatchObject({
      action: 'alert_rule.updated',
      before: created,
      after: updated.json,
    })
  })

  it('Should need a condition of the new kind when the kind changes', async () => {
    const { tenant, hook } = await setup()
    const created = (await create(tenant, failureRateRule([hook.id]))).json
    const path = `/v1/alert-rules/${created.id}`
    const bare = await call(path, {
      method: 'PATCH',
      token: tenant.apiKey,
      body: { kind: 'consecutive_failures' },
    })
    expect(bare.status).toBe(400)
    expect(bare.json).toEqual(
      error('validation_error', 'condition', 'is required when kind changes'),
    )
    const wrong = await call(path, {
      method: 'PATCH',
      token: tenant.apiKey,
      body: { condition: { threshold: 0.3, windowMinutes: 0 } },
    })
    expect(wrong.json).toEqual(
      error('validation_error', 'condition.windowMinutes', 'Too small: expected number to be >=1'),
    )
    const changed = await call(path, {
      method: 'PATCH',
      token: tenant.apiKey,
      body: { kind: 'consecutive_failures', condition: { threshold: 3 } },
    })
    expect(changed.status).toBe(200)
    expect(changed.json).toMatchObject({
      kind: 'consecutive_failures',
      condition: { threshold: 3 },
    })
  })

  it('Should check destinations on update too', async () => {
    const { tenant, hook } = await setup()
    const created = (await create(tenant, failureRateRule([hook.id]))).json
    const response = await call(`/v1/alert-rules/${created.id}`, {
      method: 'PATCH',
      token: tenant.apiKey,
      body: { notify: ['dst_aaaaaaaaaaaaaaaaaaaa'] },
    })
    expect(response.status).toBe(422)
    expect(response.json).toEqual(
      error(
        'destination_not_found',
        'notify[0]',
        'no destination with id "dst_aaaaaaaaaaaaaaaaaaaa"',
      ),
    )
    const read = await call(`/v1/alert-rules/${created.id}`, { token: tenant.apiKey })
    expect(read.json).toEqual(created)
  })

  it('Should delete a rule, audit it, and answer 404 afterwards', async () => {
    const { tenant, hook } = await setup()
    const created = (await create(tenant, failureRateRule([hook.id]))).json
    const deleted = await call(`/v1/alert-rules/${created.id}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(deleted.status).toBe(200)
    expect(deleted.json).toEqual({ id: created.id, deleted: true })
    const again = await call(`/v1/alert-rules/${created.id}`, { token: tenant.apiKey })
    expect(again.status).toBe(404)
    expect(again.json).toEqual({
      error: {
        code: 'not_found',
        message: `Alert rule "${created.id}" does not exist`,
        requestId: expect.any(String),
      },
    })
    const [change] = await auditOf(tenant, created.id)
    expect(change).toMatchObject({ action: 'alert_rule.deleted', before: created, after: null })
  })
})
