import { describe, expect, it } from 'vitest'
import { call, createTenant } from '../support/api'
import {
  clearFaults,
  createWebhookDestination,
  injectFault,
  receivedAt,
  registerSecrets,
  seedDelivery,
  waitForDelivery,
} from '../support/delivery-helpers'

describe('delivery to a webhook, end to end', () => {
  it('delivers the payload text unaltered, signed, with a stable webhook-id', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const body =
      `{"organizationId":"${tenant.organizationId}","destinations":["${hook.id}"],` +
      '"payload":{"type":"phi-access-audit","data":{"2":"second","1":"first","big":12345678901234567890,"note":"caf\\u00e9 ✓"},' +
      '"metadata":{"eventType":"phi-access"}},"options":{"priority":9,"correlationId":"u-1","tags":["hipaa"]}}'
    const accepted = await call('/v1/deliveries', { token: tenant.apiKey, rawBody: body })
    expect(accepted.status).toBe(202)
    expect(accepted.json).toEqual({
      deliveryId: expect.stringMatching(/^dlv_[a-z2-7]{20}$/),
      organizationId: tenant.organizationId,
      sequence: 1,
      status: 'queued',
      acceptedAt: expect.any(String),
      destinations: [
        { destinationId: hook.id, label: `hook ${hook.path}`, type: 'webhook', status: 'queued' },
      ],
    })
    const { deliveryId, acceptedAt } = accepted.json

    const settled = await waitForDelivery(tenant.apiKey, deliveryId)
    expect(settled.status).toBe('delivered')
    const [target] = settled.destinations
    expect(target).toMatchObject({
      status: 'delivered',
      attempts: 1,
      lastError: null,
      reference: { httpStatus: 200 },
    })

    const [request, ...others] = await receivedAt(hook.path)
    expect(others).toEqual([])
    expect(request.body).toBe(
      `{"id":"${deliveryId}","type":"phi-access-audit","timestamp":"${acceptedAt}","organizationId":"${tenant.organizationId}","sequence":1,` +
        '"data":{"2":"second","1":"first","big":12345678901234567890,"note":"caf\\u00e9 ✓"},"metadata":{"eventType":"phi-access"},' +
        '"correlationId":"u-1","tags":["hipaa"]}',
    )
    expect(request.headers['webhook-id']).toBe(target.messageId)
    expect(request.headers['content-type']).toBe('application/json')
    expect(request.check).toEqual({ ok: true, details: { verified: [true] } })
  })

  it('retries a failing receiver and delivers once it recovers, under one webhook-id', async () => {
    const tenant = await createTenant()
    await call('/v1/settings', {
      method: 'PUT',
      token: tenant.apiKey,
      body: { retry: { maxAttempts: 5, baseDelay: 100, maxDelay: 200 } },
    })
    const hook = await createWebhookDestination(tenant.apiKey)
    await injectFault(hook.path, { mode: 'status', status: 503, times: 3 })
    const accepted = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id),
    })
    const settled = await waitForDelivery(tenant.apiKey, accepted.json.deliveryId)
    expect(settled.status).toBe('delivered')
    expect(settled.destinations[0].attempts).toBe(4)

    const requests = await receivedAt(hook.path)
    expect(requests.map((r) => r.status)).toEqual([503, 503, 503, 200])
    expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(
      new Set([settled.destinations[0].messageId]),
    )

    const attempts = await call(`/v1/deliveries/${accepted.json.deliveryId}/attempts`, {
      token: tenant.apiKey,
    })
    expect(
      attempts.json.attempts.map((a: { outcome: string; error: { code: string } | null }) => [
        a.outcome,
        a.error?.code ?? null,
      ]),
    ).toEqual([
      ['retryable', 'http_503'],
      ['retryable', 'http_503'],
      ['retryable', 'http_503'],
      ['delivered', null],
    ])
  })

  it('records the last error when the retries run out', async () => {
    const tenant = await createTenant()
    await call('/v1/settings', {
      method: 'PUT',
      token: tenant.apiKey,
      body: { retry: { maxAttempts: 2, baseDelay: 100, maxDelay: 100 } },
    })
    const hook = await createWebhookDestination(tenant.apiKey)
    await injectFault(hook.path, { mode: 'status', status: 500, times: 5 })
    const accepted = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id),
    })
    const settled = await waitForDelivery(tenant.apiKey, accepted.json.deliveryId)
    expect(settled.status).toBe('failed')
    expect(settled.destinations[0]).toMatchObject({
      status: 'failed',
      attempts: 2,
      reason: 'retries_exhausted',
      lastError: { code: 'http_500', httpStatus: 500, message: expect.any(String) },
    })

    const retried = await call(`/v1/deliveries/${accepted.json.deliveryId}/retry`, {
      method: 'POST',
      token: tenant.apiKey,
    })
    expect(retried.status).toBe(200)
    await clearFaults(hook.path)
    const recovered = await waitForDelivery(
      tenant.apiKey,
      accepted.json.deliveryId,
      (view) => view.status === 'delivered',
    )
    expect(recovered.destinations[0].status).toBe('delivered')
    const again = await call(`/v1/deliveries/${accepted.json.deliveryId}/retry`, {
      method: 'POST',
      token: tenant.apiKey,
    })
    expect(again.status).toBe(409)
    expect(again.json.error.code).toBe('nothing_to_retry')
  })
})

describe('a destination changed between deliveries', () => {
  it('signs the next delivery with a secret replaced by PATCH, at once', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const first = (
      await call('/v1/deliveries', { token: tenant.apiKey, body: seedDelivery(hook.id) })
    ).json
    await waitForDelivery(tenant.apiKey, first.deliveryId)
    const replacement = 'whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3'
    const patched = await call(`/v1/destinations/${hook.id}`, {
      method: 'PATCH',
      token: tenant.apiKey,
      body: { config: { webhook: { secret: replacement } } },
    })
    expect(patched.status).toBe(200)
    await registerSecrets(hook.path, [replacement])
    const second = (
      await call('/v1/deliveries', { token: tenant.apiKey, body: seedDelivery(hook.id) })
    ).json
    const settled = await waitForDelivery(tenant.apiKey, second.deliveryId)
    expect(settled.status).toBe('delivered')
    const requests = await receivedAt(hook.path)
    expect(requests.at(-1).check).toEqual({ ok: true, details: { verified: [true] } })
  })
})
