import { exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, createTenant } from '../support/api'
import { createWebhookDestination, seedDelivery } from '../support/delivery-helpers'

describe('POST /v1/deliveries', () => {
  it('replays the original answer for the same idempotency key and bytes', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const body = seedDelivery(hook.id, { options: { idempotencyKey: 'evt-1' } })
    const first = await call('/v1/deliveries', { token: tenant.apiKey, body })
    expect(first.status).toBe(202)
    const replay = await call('/v1/deliveries', { token: tenant.apiKey, body })
    expect(replay.status).toBe(200)
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    expect(replay.json).toEqual(first.json)
  })

  it('answers 409 when the key comes back with another body', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id),
      headers: { 'Idempotency-Key': 'k-1' },
    })
    const reused = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id, { payload: { type: 'other', data: 1 } }),
      headers: { 'Idempotency-Key': 'k-1' },
    })
    expect(reused.status).toBe(409)
    expect(reused.json.error).toEqual({
      code: 'idempotency_key_reused',
      message: 'Idempotency key "k-1" was used with a different request',
      requestId: reused.headers.get('x-request-id'),
    })
  })

  it('answers 400 when the header and the body name different keys', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const response = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id, { options: { idempotencyKey: 'a' } }),
      headers: { 'Idempotency-Key': 'b' },
    })
    expect(response.status).toBe(400)
    expect(response.json.error.code).toBe('idempotency_key_mismatch')
    expect(response.json.error.details).toEqual({
      issues: [
        { path: 'options.idempotencyKey', message: 'differs from the Idempotency-Key header' },
      ],
    })
  })

  it('turns concurrent duplicates into one delivery', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const body = seedDelivery(hook.id, { options: { idempotencyKey: 'race' } })
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => call('/v1/deliveries', { token: tenant.apiKey, body })),
    )
    expect(responses.map((r) => r.status).sort()).toEqual([
      200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 202,
    ])
    expect(new Set(responses.map((r) => r.json.deliveryId)).size).toBe(1)
    const list = await call('/v1/deliveries', { token: tenant.apiKey })
    expect(list.json.deliveries).toHaveLength(1)
  })

  it('keeps keys per organization', async () => {
    const a = await createTenant()
    const b = await createTenant()
    const hookA = await createWebhookDestination(a.apiKey)
    const hookB = await createWebhookDestination(b.apiKey)
    const first = await call('/v1/deliveries', {
      token: a.apiKey,
      body: seedDelivery(hookA.id),
      headers: { 'Idempotency-Key': 'shared' },
    })
    const second = await call('/v1/deliveries', {
      token: b.apiKey,
      body: seedDelivery(hookB.id),
      headers: { 'Idempotency-Key': 'shared' },
    })
    expect([first.status, second.status]).toEqual([202, 202])
    expect(second.json.deliveryId).not.toBe(first.json.deliveryId)
  })

  it('numbers concurrent deliveries without gaps', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const responses = await Promise.all(
      Array.from({ length: 40 }, () =>
        call('/v1/deliveries', { token: tenant.apiKey, body: seedDelivery(hook.id) }),
      ),
    )
    expect(responses.every((r) => r.status === 202)).toBe(true)
    expect(responses.map((r) => r.json.sequence).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    )
  })

  it("names the destination that does not exist, including another tenant's", async () => {
    const tenant = await createTenant()
    const other = await createTenant()
    const mine = await createWebhookDestination(tenant.apiKey)
    const theirs = await createWebhookDestination(other.apiKey)
    const response = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery([mine.id, theirs.id]),
    })
    expect(response.status).toBe(422)
    expect(response.json.error).toMatchObject({
      code: 'destination_not_found',
      message: `destinations[1]: no destination with id or label "${theirs.id}"`,
      details: {
        issues: [
          { path: 'destinations[1]', message: `no destination with id or label "${theirs.id}"` },
        ],
      },
    })
    expect((await call('/v1/deliveries', { token: tenant.apiKey })).json.deliveries).toEqual([])
  })

  it('refuses a disabled destination and accepts one named by label', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey, { label: 'Partner hook' })
    const byLabel = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(['Partner hook']),
    })
    expect(byLabel.status).toBe(202)
    expect(byLabel.json.destinations[0].destinationId).toBe(hook.id)
    await call(`/v1/destinations/${hook.id}`, {
      method: 'PATCH',
      token: tenant.apiKey,
      body: { disabled: true },
    })
    const refused = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id),
    })
    expect(refused.status).toBe(422)
    expect(refused.json.error.code).toBe('destination_disabled')
    expect(refused.json.error.details.issues[0].path).toBe('destinations')
  })

  it('delivers to the organization\'s defaults for "default"', async () => {
    const tenant = await createTenant()
    const none = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery('default'),
    })
    expect(none.status).toBe(422)
    expect(none.json.error.message).toBe(
      'destinations: the organization has no enabled default destinations',
    )
    const first = await createWebhookDestination(tenant.apiKey)
    const second = await createWebhookDestination(tenant.apiKey)
    await call(`/v1/destinations/${first.id}/default`, { method: 'PUT', token: tenant.apiKey })
    const response = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(['default', second.id]),
    })
    expect(response.status).toBe(202)
    expect(
      response.json.destinations.map((d: { destinationId: string }) => d.destinationId).sort(),
    ).toEqual([first.id, second.id].sort())
  })

  it('rejects another organization in the body with 403', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const response = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: { ...seedDelivery(hook.id), organizationId: 'someone-else' },
    })
    expect(response.status).toBe(403)
    expect(response.json.error.code).toBe('organization_mismatch')
  })

  it('answers 413 above 10 MiB of payload and stores nothing', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const big = 'x'.repeat(10 * 1024 * 1024 + 10)
    const response = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id, { payload: { type: 't', data: big } }),
    })
    expect(response.status).toBe(413)
    expect(response.json.error.code).toBe('payload_too_large')
    expect((await call('/v1/deliveries', { token: tenant.apiKey })).json.deliveries).toEqual([])
  })

  it('names the field of a schema error and changes nothing', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const response = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id, { options: { priority: 11 } }),
    })
    expect(response.status).toBe(400)
    expect(response.json.error.details.issues).toEqual([
      { path: 'options.priority', message: 'Too big: expected number to be <=10' },
    ])
    expect((await call('/v1/deliveries', { token: tenant.apiKey })).json.deliveries).toEqual([])
  })

  it('answers 415 for a body that is not JSON and 400 for malformed JSON', async () => {
    const tenant = await createTenant()
    const wrongType = await call('/v1/deliveries', {
      token: tenant.apiKey,
      rawBody: 'a=b',
      headers: { 'content-type': 'text/plain' },
    })
    expect(wrongType.status).toBe(415)
    expect(wrongType.json.error.code).toBe('unsupported_media_type')
    const malformed = await call('/v1/deliveries', {
      token: tenant.apiKey,
      rawBody: '{"destinations":',
    })
    expect(malformed.status).toBe(400)
    expect(malformed.json.error.code).toBe('invalid_json')
  })
})

describe('POST /v1/deliveries/batch', () => {
  it('accepts, deduplicates and rejects item by item', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id, { options: { idempotencyKey: 'seen' } }),
    })
    const response = await call('/v1/deliveries/batch', {
      token: tenant.apiKey,
      body: {
        deliveries: [
          seedDelivery(hook.id),
          seedDelivery(hook.id, { options: { idempotencyKey: 'seen' } }),
          seedDelivery(hook.id, { payload: { type: '' } }),
          { ...seedDelivery(hook.id), organizationId: 'another-org' },
          seedDelivery('nope'),
        ],
      },
    })
    expect(response.status).toBe(200)
    const [accepted, duplicate, invalid, mismatch, missing] = response.json.results
    expect(accepted).toEqual({
      index: 0,
      status: 'accepted',
      deliveryId: expect.stringMatching(/^dlv_/),
      sequence: 2,
    })
    expect(duplicate).toEqual({
      index: 1,
      status: 'duplicate',
      deliveryId: expect.stringMatching(/^dlv_/),
      sequence: 1,
    })
    expect(invalid.status).toBe('rejected')
    expect(invalid.error.code).toBe('validation_error')
    expect(invalid.error.details.issues.map((i: { path: string }) => i.path)).toEqual([
      'deliveries[2].payload.type',
      'deliveries[2].payload.data',
    ])
    expect(mismatch).toEqual({
      index: 3,
      status: 'rejected',
      error: {
        code: 'organization_mismatch',
        message:
          'deliveries[3].organizationId: "another-org" is not the organization of this API key',
      },
    })
    expect(missing).toMatchObject({
      index: 4,
      status: 'rejected',
      error: { code: 'destination_not_found' },
    })
  })

  it('numbers the accepted items without gaps around rejected ones, and the next request after them', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const response = await call('/v1/deliveries/batch', {
      token: tenant.apiKey,
      body: {
        deliveries: [
          seedDelivery('nope'),
          seedDelivery(hook.id),
          seedDelivery('nope'),
          seedDelivery(hook.id),
          seedDelivery(hook.id, { payload: { type: '' } }),
          seedDelivery(hook.id),
          seedDelivery('nope'),
        ],
      },
    })
    expect(response.status).toBe(200)
    expect(
      response.json.results.map((r: { status: string; sequence?: number }) => r.sequence ?? null),
    ).toEqual([null, 1, null, 2, null, 3, null])
    const next = await call('/v1/deliveries', { token: tenant.apiKey, body: seedDelivery(hook.id) })
    expect(next.json.sequence).toBe(4)
    const list = await call('/v1/deliveries', { token: tenant.apiKey })
    expect(list.json.deliveries.map((d: { sequence: number }) => d.sequence)).toEqual([4, 3, 2, 1])
  })

  it('meets an idempotency key repeated within one batch as a replay or a conflict', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const same = seedDelivery(hook.id, { options: { idempotencyKey: 'twice' } })
    const other = seedDelivery(hook.id, {
      payload: { type: 'other', data: 1 },
      options: { idempotencyKey: 'twice' },
    })
    const response = await call('/v1/deliveries/batch', {
      token: tenant.apiKey,
      body: { deliveries: [same, same, other] },
    })
    const [first, replay, conflict] = response.json.results
    expect(first).toEqual({
      index: 0,
      status: 'accepted',
      deliveryId: expect.stringMatching(/^dlv_/),
      sequence: 1,
    })
    expect(replay).toEqual({ ...first, index: 1, status: 'duplicate' })
    expect(conflict).toEqual({
      index: 2,
      status: 'rejected',
      error: {
        code: 'idempotency_key_reused',
        message: 'Idempotency key "twice" was used with a different request',
      },
    })
    // The key was stored with the call: a later request meets it too.
    const later = await call('/v1/deliveries', { token: tenant.apiKey, body: same })
    expect(later.status).toBe(200)
    expect(later.json.deliveryId).toBe(first.deliveryId)
  })

  it('refuses more than 1,000 items', async () => {
    const tenant = await createTenant()
    const response = await call('/v1/deliveries/batch', {
      token: tenant.apiKey,
      body: { deliveries: Array.from({ length: 1001 }, () => ({})) },
    })
    expect(response.status).toBe(400)
    expect(response.json.error.details.issues[0].path).toBe('deliveries')
  })
})

describe('bodies the JSON reader refuses', () => {
  it('refuses bytes that are not UTF-8 instead of replacing them', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const prefix = new TextEncoder().encode(
      `{"destinations":"${hook.id}","payload":{"type":"t","data":"`,
    )
    const suffix = new TextEncoder().encode('"}}')
    const body = new Uint8Array([...prefix, 0xff, 0xfe, 0xc3, ...suffix])
    const response = await exports.default.fetch(
      new Request('http://service.test/v1/deliveries', {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
        body,
      }),
    )
    const json = (await response.json()) as { error: { code: string; message: string } }
    expect(response.status).toBe(400)
    expect(json.error.code).toBe('invalid_json')
    expect(json.error.message).toMatch(/^Request body is not valid JSON in UTF-8: /)
    expect((await call('/v1/deliveries', { token: tenant.apiKey })).json.deliveries).toEqual([])
  })

  it('answers 400, not 500, to a small body nested thousands of levels deep', async () => {
    const tenant = await createTenant()
    const hook = await createWebhookDestination(tenant.apiKey)
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`
    const response = await call('/v1/deliveries', {
      token: tenant.apiKey,
      rawBody: `{"destinations":"${hook.id}","payload":{"type":"t","data":${deep}}}`,
    })
    expect(response.status).toBe(400)
    expect(response.json.error).toMatchObject({
      code: 'invalid_json',
      message: 'Request body nests arrays and objects deeper than 128 levels',
    })
  })
})
