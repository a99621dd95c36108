import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { deliverWebhook } from '../../src/handlers/webhook'
import { makeJob, randomWebhookSecret, webhookDestination } from '../support/jobs'
import { addFault, peers, recorded, registerWebhook, uniquePath } from '../support/peers'

async function endpoint(secrets?: string[]) {
  const path = uniquePath()
  const destination = webhookDestination({ url: `${peers().webhook.url}${path}` })
  await registerWebhook(path, secrets ?? [destination.config.secret])
  return { path, destination }
}

describe('webhook handler', () => {
  it('Should post the envelope byte for byte with a Standard Webhooks signature the receiver verifies', async () => {
    const { path, destination } = await endpoint()
    const job = makeJob(destination.id)
    const before = Math.floor(Date.now() / 1000)

    const outcome = await deliverWebhook(job, destination, env)

    expect(outcome).toEqual({ kind: 'delivered', reference: { httpStatus: 200 } })
    const [request, ...rest] = await recorded(peers().webhook.url, { path })
    expect(rest).toEqual([])
    expect(request?.method).toBe('POST')
    expect(request?.body).toBe(job.envelope)
    expect(request?.body).toContain('"bigId":12345678901234567890')
    expect(request?.headers['content-type']).toBe('application/json')
    expect(request?.headers['webhook-id']).toBe(job.messageId)
    const timestamp = Number(request?.headers['webhook-timestamp'])
    expect(timestamp).toBeGreaterThanOrEqual(before)
    expect(timestamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000))
    expect(request?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/)
    expect(request?.check).toEqual({ ok: true, details: { verified: [true] } })
  })

  it('Should sign with the current secret and every previous one still in grace, not an expired one', async () => {
    const previous = randomWebhookSecret()
    const expired = randomWebhookSecret()
    const path = uniquePath()
    const destination = webhookDestination({
      url: `${peers().webhook.url}${path}`,
      previousSecrets: [
        { secret: previous, expiresAt: new Date(Date.now() + 3_600_000).toISOString() },
        { secret: expired, expiresAt: new Date(Date.now() - 1000).toISOString() },
      ],
    })
    await registerWebhook(path, [destination.config.secret, previous, expired])

    await deliverWebhook(makeJob(destination.id), destination, env)

    const [request] = await recorded(peers().webhook.url, { path })
    expect(request?.headers['webhook-signature']?.split(' ')).toHaveLength(2)
    expect(request?.check?.details).toEqual({ verified: [true, true, false] })
  })

  it("Should keep the destination's own headers but never let them replace the signed ones", async () => {
    const path = uniquePath()
    const destination = webhookDestination({
      url: `${peers().webhook.url}${path}`,
      method: 'PUT',
      headers: {
        'X-Organization': 'hospital-001',
        'Webhook-Id': 'forged',
        'Content-Type': 'text/plain',
        'User-Agent': 'forged',
      },
    })
    await registerWebhook(path, [destination.config.secret])
    const job = makeJob(destination.id)

    await deliverWebhook(job, destination, env)

    const [request] = await recorded(peers().webhook.url, { path })
    expect(request?.method).toBe('PUT')
    expect(request?.headers['x-organization']).toBe('hospital-001')
    expect(request?.headers['webhook-id']).toBe(job.messageId)
    expect(request?.headers['content-type']).toBe('application/json')
    expect(request?.headers['user-agent']).toBe('audit-delivery-webhooks/1.0')
    expect(request?.check?.ok).toBe(true)
  })

  it('Should be refused permanently by a receiver whose secret differs', async () => {
    const { path, destination } = await endpoint([randomWebhookSecret()])

    const outcome = await deliverWebhook(makeJob(destination.id), destination, env)

    expect(outcome).toEqual({
      kind: 'permanent',
      code: 'http_401',
      message: 'Receiver answered 401: {"error":"invalid signature"}',
      httpStatus: 401,
    })
    expect((await recorded(peers().webhook.url, { path }))[0]?.check?.ok).toBe(false)
  })

  it('Should deliver once the receiver recovers, with the same webhook-id on every attempt', async () => {
    const { path, destination } = await endpoint()
    await addFault(peers().webhook.url, { path }, { mode: 'status', status: 503, times: 2 })
    const job = makeJob(destination.id)

    const outcomes = []
    for (let attempt = 1; attempt <= 3; attempt++)
      outcomes.push(await deliverWebhook({ ...job, attempt }, destination, env))

    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['retryable', 'retryable', 'delivered'])
    const requests = await recorded(peers().webhook.url, { path })
    expect(requests.map((request) => request.status)).toEqual([503, 503, 200])
    expect(new Set(requests.map((request) => request.headers['webhook-id']))).toEqual(
      new Set([job.messageId]),
    )
    expect(requests.map((request) => request.body)).toEqual([
      job.envelope,
      job.envelope,
      job.envelope,
    ])
  })
})

describe('webhook outcome classification', () => {
  async function outcomeFor(fault: Parameters<typeof addFault>[2], timeout = 5000) {
    const { path, destination } = await endpoint()
    await addFault(peers().webhook.url, { path }, fault)
    const outcome = await deliverWebhook(
      makeJob(destination.id),
      { ...destination, config: { ...destination.config, timeout } },
      env,
    )
    return { outcome, requests: await recorded(peers().webhook.url, { path }) }
  }

  it.each([500, 502, 503, 504])('Should retry after a %i', async (status) => {
    const { outcome } = await outcomeFor({ mode: 'status', status, body: 'busy' })
    expect(outcome).toEqual({
      kind: 'retryable',
      code: `http_${status}`,
      message: `Receiver answered ${status}: busy`,
      httpStatus: status,
    })
  })

  it('Should retry after a 408', async () => {
    const { outcome } = await outcomeFor({ mode: 'status', status: 408 })
    expect(outcome).toEqual({
      kind: 'retryable',
      code: 'http_408',
      message: 'Receiver answered 408',
      httpStatus: 408,
    })
  })

  it('Should retry a 429 after the seconds its Retry-After names', async () => {
    const { outcome } = await outcomeFor({
      mode: 'status',
      status: 429,
      headers: { 'retry-after': '7' },
    })
    expect(outcome).toEqual({
      kind: 'retryable',
      code: 'http_429',
      message: 'Receiver answered 429',
      httpStatus: 429,
      retryAfterMs: 7000,
    })
  })

  it('Should read a Retry-After given as an HTTP date', async () => {
    const at = new Date(Date.now() + 120_000)
    const { outcome } = await outcomeFor({
      mode: 'status',
      status: 503,
      headers: { 'retry-after': at.toUTCString() },
    })
    expect(outcome.kind).toBe('retryable')
    const retryAfterMs = outcome.kind === 'retryable' ? (outcome.retryAfterMs ?? 0) : 0
    // The HTTP date has whole seconds; allow for that and the time the request took.
    expect(retryAfterMs).toBeGreaterThan(115_000)
    expect(retryAfterMs).toBeLessThanOrEqual(120_000)
  })

  it('Should give up on a 410 and ask for the destination to be disabled', async () => {
    const { outcome } = await outcomeFor({ mode: 'status', status: 410 })
    expect(outcome).toEqual({
      kind: 'permanent',
      code: 'http_410',
      message: 'Receiver answered 410',
      httpStatus: 410,
      disableDestination: true,
    })
  })

  it.each([400, 401, 403, 404, 405, 413, 422])('Should give up on a %i', async (status) => {
    const { outcome } = await outcomeFor({ mode: 'status', status })
    expect(outcome).toEqual({
      kind: 'permanent',
      code: `http_${status}`,
      message: `Receiver answered ${status}`,
      httpStatus: status,
    })
  })

  it.each([301, 302, 307, 308])('Should not follow a %i and retry instead', async (status) => {
    const target = uniquePath('/moved')
    const location = `${peers().webhook.url}${target}`
    const { outcome } = await outcomeFor({ mode: 'redirect', status, location })
    expect(outcome).toEqual({
      kind: 'retryable',
      code: 'redirect',
      message: `Receiver answered ${status} redirecting to ${location}; redirects are not followed`,
      httpStatus: status,
    })
    expect(await recorded(peers().webhook.url, { path: target })).toEqual([])
  })

  it('Should count any 2xx as delivered', async () => {
    const { outcome } = await outcomeFor({ mode: 'status', status: 204 })
    expect(outcome).toEqual({ kind: 'delivered', reference: { httpStatus: 204 } })
  })

  it('Should abandon a receiver that does not answer within the timeout', async () => {
    const started = Date.now()
    const { outcome, requests } = await outcomeFor({ mode: 'hang', ms: 4000 }, 1000)
    expect(outcome).toEqual({
      kind: 'retryable',
      code: 'timeout',
      message: 'Receiver did not answer within 1000 ms',
    })
    expect(Date.now() - started).toBeLessThan(3000)
    expect(requests).toHaveLength(1)
  })

  it('Should retry when the receiver drops the connection', async () => {
    const { outcome, requests } = await outcomeFor({ mode: 'drop' })
    expect(outcome).toEqual({
      kind: 'retryable',
      code: 'network_error',
      message: 'Receiver could not be reached: Network connection lost.',
    })
    expect(requests).toHaveLength(1)
  })

  it('Should retry when nothing listens at the address', async () => {
    const destination = webhookDestination({ url: 'http://127.0.0.1:9/hooks' })
    const outcome = await deliverWebhook(makeJob(destination.id), destination, env)
    expect(outcome).toEqual({
      kind: 'retryable',
      code: 'network_error',
      message: 'Receiver could not be reached: Network connection lost.',
    })
  })

  it('Should refuse a loopback URL when the development flag is off, without sending', async () => {
    const path = uniquePath()
    const destination = webhookDestination({ url: `${peers().webhook.url}${path}` })
    const outcome = await deliverWebhook(makeJob(destination.id), destination, {
      ...env,
      ALLOW_LOOPBACK_DESTINATIONS: 'false',
    })
    expect(outcome).toEqual({
      kind: 'permanent',
      code: 'destination_refused',
      message:
        'Webhook URL must not point at loopback (127.0.0.1); loopback is allowed only under the development flag ALLOW_LOOPBACK_DESTINATIONS',
    })
    expect(await recorded(peers().webhook.url, { path })).toEqual([])
  })
})
