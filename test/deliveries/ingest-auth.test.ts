/**
 * The key check on the two ingest routes, which the organization's object makes inside its
 * accept call: a refused key answers exactly what the check before the route answers,
 * whatever the body, and nothing is stored for it.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { prepareDelivery } from '../../src/services/ingest'
import { ADMIN_TOKEN, call, createTenant } from '../support/api'
import { createWebhookDestination, seedDelivery } from '../support/delivery-helpers'

const CHALLENGE = 'Bearer realm="audit-delivery"'

/** A tenant with a webhook and a second key, whose first key is then revoked. */
async function tenantWithRevokedKey() {
  const tenant = await createTenant()
  const hook = await createWebhookDestination(tenant.apiKey)
  const spare = await call(`/v1/admin/organizations/${tenant.organizationId}/api-keys`, {
    token: ADMIN_TOKEN,
    body: { name: 'spare' },
  })
  const revoked = await call(
    `/v1/admin/organizations/${tenant.organizationId}/api-keys/${tenant.keyId}`,
    { method: 'DELETE', token: ADMIN_TOKEN },
  )
  expect(revoked.status).toBe(200)
  return { ...tenant, hook, spareKey: spare.json.key as string }
}

function expectRefusal(response: Awaited<ReturnType<typeof call>>, message: string) {
  expect(response.status).toBe(401)
  expect(response.headers.get('www-authenticate')).toBe(CHALLENGE)
  expect(response.json).toEqual({
    error: { code: 'unauthorized', message, requestId: response.headers.get('x-request-id') },
  })
}

/** Proves nothing was stored: the next delivery takes sequence 1. */
async function expectNothingStored(apiKey: string, destinationId: string) {
  expect((await call('/v1/deliveries', { token: apiKey })).json.deliveries).toEqual([])
  const next = await call('/v1/deliveries', { token: apiKey, body: seedDelivery(destinationId) })
  expect(next.status).toBe(202)
  expect(next.json.sequence).toBe(1)
}

describe('the key check of the ingest routes', () => {
  it('Should answer 401 to a revoked key on both routes and store nothing', async () => {
    const tenant = await tenantWithRevokedKey()
    const single = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(tenant.hook.id, { options: { idempotencyKey: 'k-1' } }),
    })
    expectRefusal(single, 'The API key is revoked')
    const batch = await call('/v1/deliveries/batch', {
      token: tenant.apiKey,
      body: { deliveries: [seedDelivery(tenant.hook.id), seedDelivery(tenant.hook.id)] },
    })
    expectRefusal(batch, 'The API key is revoked')
    await expectNothingStored(tenant.spareKey, tenant.hook.id)
    // The idempotency key was not taken either: the same request is new, not a replay.
    const again = await call('/v1/deliveries', {
      token: tenant.spareKey,
      body: seedDelivery(tenant.hook.id, { options: { idempotencyKey: 'k-1' } }),
    })
    expect(again.status).toBe(202)
  })

  it('Should answer a revoked key 401 before anything its body would get', async () => {
    const tenant = await tenantWithRevokedKey()
    const bodies = [
      { path: '/v1/deliveries', body: seedDelivery(tenant.hook.id, { options: { priority: 11 } }) },
      { path: '/v1/deliveries', body: { ...seedDelivery(tenant.hook.id), organizationId: 'x' } },
      { path: '/v1/deliveries', body: seedDelivery('no-such-destination') },
      { path: '/v1/deliveries/batch', body: { deliveries: [{ payload: {} }] } },
      { path: '/v1/deliveries/batch', body: { deliveries: [] } },
    ]
    for (const { path, body } of bodies) {
      expectRefusal(await call(path, { token: tenant.apiKey, body }), 'The API key is revoked')
    }
    for (const rawBody of ['{"destinations":', '[1, 2']) {
      const response = await call('/v1/deliveries', { token: tenant.apiKey, rawBody })
      expectRefusal(response, 'The API key is revoked')
    }
    const wrongType = await call('/v1/deliveries', {
      token: tenant.apiKey,
      rawBody: 'a=b',
      headers: { 'content-type': 'text/plain' },
    })
    expectRefusal(wrongType, 'The API key is revoked')
    await expectNothingStored(tenant.spareKey, tenant.hook.id)
  })

  it('Should answer 401 to a revoked key with a large body and write no payload to R2', async () => {
    const tenant = await tenantWithRevokedKey()
    const data = { note: 'x'.repeat(120_000) }
    const response = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(tenant.hook.id, { payload: { type: 'bulk', data } }),
    })
    expectRefusal(response, 'The API key is revoked')
    const stored = await env.ARTIFACTS.list({ prefix: `orgs/${tenant.organizationId}/payloads/` })
    expect(stored.objects).toEqual([])
  })

  it('Should answer a wrong secret for a real key id 401 on both routes', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const forged = tenant.apiKey.replace(/[0-9a-f]{64}$/, '0'.repeat(64))
    for (const path of ['/v1/deliveries', '/v1/deliveries/batch']) {
      const body =
        path === '/v1/deliveries' ? seedDelivery(hook.id) : { deliveries: [seedDelivery(hook.id)] }
      expectRefusal(await call(path, { token: forged, body }), 'The API key is not valid')
    }
    await expectNothingStored(tenant.apiKey, hook.id)
  })

  it('Should answer 403 organization_disabled on both routes and store nothing', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const setStatus = (status: string) =>
      call(`/v1/admin/organizations/${tenant.organizationId}`, {
        method: 'PATCH',
        token: ADMIN_TOKEN,
        body: { status },
      })
    await setStatus('disabled')
    for (const path of ['/v1/deliveries', '/v1/deliveries/batch']) {
      const body =
        path === '/v1/deliveries' ? seedDelivery(hook.id) : { deliveries: [seedDelivery(hook.id)] }
      const response = await call(path, { token: tenant.apiKey, body })
      expect(response.status).toBe(403)
      expect(response.json).toEqual({
        error: {
          code: 'organization_disabled',
          message: 'The organization is disabled',
          requestId: response.headers.get('x-request-id'),
        },
      })
    }
    await setStatus('active')
    await expectNothingStored(tenant.apiKey, hook.id)
  })
})

describe('prepareDelivery', () => {
  it('Should ask before it writes a payload to R2, and write nothing when refused', async () => {
    const organizationId = `upload-${crypto.randomUUID()}`
    const input = seedDelivery('default', {
      payload: { type: 'bulk', data: { note: 'x'.repeat(120_000) } },
      options: { priority: 5, tags: [] },
    })
    const refusal = new Error('refused')
    const prepared = prepareDelivery(
      env,
      organizationId,
      // biome-ignore lint/suspicious/noExplicitAny: the validated input shape, as the route passes it
      { input: input as any, text: JSON.stringify(input) },
      0,
      null,
      () => Promise.reject(refusal),
    )
    await expect(prepared).rejects.toBe(refusal)
    const stored = await env.ARTIFACTS.list({ prefix: `orgs/${organizationId}/` })
    expect(stored.objects).toEqual([])
  })
})
