import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { discardBody, parseRetryAfter } from '../../src/handlers/http-outcome'
import { handlerFor } from '../../src/handlers/index'
import {
  downloadDestination,
  emailDestination,
  makeJob,
  storageDestination,
  webhookDestination,
} from '../support/jobs'

describe('Retry-After', () => {
  const now = Date.parse('2026-03-07T04:05:06Z')

  it('Should read delay seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
  })

  it('Should read an HTTP date relative to now, and a past date as no wait', () => {
    expect(parseRetryAfter('Sat, 07 Mar 2026 04:06:06 GMT', now)).toBe(60_000)
    expect(parseRetryAfter('Sat, 07 Mar 2026 04:00:00 GMT', now)).toBe(0)
  })

  it('Should ignore an absent or unreadable header', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter('-5', now)).toBeUndefined()
  })
})

/**
 * A response whose body is `chunks` and then, unless `ends`, nothing more for ever, with
 * `contentLength` as its declared length when given.
 */
function observedResponse(chunks: string[], ends: boolean, contentLength?: number) {
  const seen = { read: 0, cancelled: false }
  const queue = chunks.map((chunk) => new TextEncoder().encode(chunk))
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = queue.shift()
      if (next) {
        seen.read += next.byteLength
        controller.enqueue(next)
      } else if (ends) controller.close()
    },
    cancel() {
      seen.cancelled = true
    },
  })
  const headers =
    contentLength === undefined ? undefined : { 'content-length': String(contentLength) }
  return { response: new Response(body, { headers }), seen }
}

describe('discardBody', () => {
  it('Should read a short body to its end, declared or chunked', async () => {
    for (const declared of [11, undefined]) {
      const { response, seen } = observedResponse(['{"ok":', 'true}'], true, declared)
      await discardBody(response)
      expect(seen).toEqual({ read: 11, cancelled: false })
    }
  })

  it('Should cancel a short body that stays open once the wait is over', async () => {
    const { response, seen } = observedResponse(['x'], false)
    await discardBody(response)
    expect(seen).toEqual({ read: 1, cancelled: true })
  })

  it('Should cancel a body once it has read past the limit, without waiting for its end', async () => {
    const { response, seen } = observedResponse(['x'.repeat(3000), 'y'.repeat(3000)], false)
    await discardBody(response)
    expect(seen).toEqual({ read: 6000, cancelled: true })
  })
})

describe('handlerFor', () => {
  it("Should hand each destination to its own type's handler", async () => {
    // Destinations whose handlers fail before any network call reveal which handler ran.
    const offline = { ...env, ALLOW_LOOPBACK_DESTINATIONS: 'false' }
    const webhook = webhookDestination({ url: 'http://127.0.0.1:9/x' })
    const s3 = storageDestination({
      provider: 's3',
      path: '{type}',
      config: {
        region: 'us-east-1',
        bucket: 'b-1',
        forcePathStyle: true,
        endpoint: 'http://127.0.0.1:9',
      },
    })
    const r2 = storageDestination({ provider: 'r2', path: '{type}', config: {} })
    const email = emailDestination({ service: 'smtp', subject: '{{#open}}' })
    const download = downloadDestination({ notifyDestinationId: 'dst_aaaaaaaaaaaaaaaaaaaa' })
    const hostile = makeJob('dst_x', { payloadType: '..' })

    const codes = await Promise.all(
      [webhook, s3, r2, email, download].map(async (destination) => {
        const outcome = await handlerFor(destination)(hostile, destination, offline)
        return outcome.kind === 'delivered' ? 'delivered' : outcome.code
      }),
    )
    expect(codes).toEqual([
      'destination_refused',
      'missing_credentials',
      'invalid_object_key',
      'template_error',
      'notify_destination_invalid',
    ])
  })
})
