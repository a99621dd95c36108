/**
 * Property tests over the delivery and destination inputs: bodies built from valid pieces
 * mixed with arbitrary JSON. Whatever arrives, the service never answers 5xx, and an input
 * it refuses changes nothing a tenant can read (deliveries, destinations, audit trail).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { call, createTenant } from '../support/api'
import { createWebhookDestination } from '../support/delivery-helpers'
import { peers } from '../support/peers'

type Tenant = Awaited<ReturnType<typeof createTenant>>

/** Anything JSON can carry, small. */
const junk = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
)

/** Mostly a plausible value, sometimes anything. */
function maybe<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: junk })
}

/** An object with some of its keys (always the `required` ones), now and then an unknown one. */
function partial(
  shape: Record<string, fc.Arbitrary<unknown>>,
  required: string[] = [],
): fc.Arbitrary<unknown> {
  const unknownKey = fc.oneof(
    { weight: 6, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 8 }), junk) },
  )
  return maybe(
    fc
      .tuple(fc.record(shape, { requiredKeys: required }), unknownKey)
      .map(([value, extra]) => (extra ? { ...value, [extra[0]]: extra[1] } : value)),
  )
}

function deliveryBody(tenant: Tenant, destinationId: string) {
  return partial(
    {
      organizationId: maybe(
        fc.oneof(
          { weight: 4, arbitrary: fc.constant(tenant.organizationId) },
          { weight: 1, arbitrary: fc.constantFrom('another-org', '') },
        ),
      ),
      destinations: maybe(
        fc.oneof(
          { weight: 4, arbitrary: fc.constant(destinationId) },
          { weight: 1, arbitrary: fc.constant('default') },
          { weight: 2, arbitrary: fc.constant([destinationId, destinationId]) },
          { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 30 }), { maxLength: 3 }) },
          { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
        ),
      ),
      payload: partial(
        {
          type: maybe(fc.string({ maxLength: 30 })),
          data: fc.jsonValue({ maxDepth: 3 }),
          metadata: maybe(
            fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
          ),
        },
        ['type', 'data'],
      ),
      options: partial({
        priority: maybe(fc.integer({ min: -3, max: 13 })),
        idempotencyKey: maybe(fc.string({ maxLength: 260 })),
        correlationId: maybe(fc.string({ maxLength: 30 })),
        tags: maybe(fc.array(fc.string({ maxLength: 101 }), { maxLength: 51 })),
      }),
    },
    ['destinations', 'payload'],
  )
}

function destinationBody(receiverUrl: string) {
  const urls = fc.constantFrom(
    `${receiverUrl}/hooks/property`,
    'https://10.0.0.1/h',
    'http://example.com/h',
    'https://[::ffff:a9fe:a9fe]/h',
    'not a url',
    'https://user:pw@example.com/',
  )
  return partial({
    label: maybe(fc.string({ maxLength: 40 })),
    type: maybe(fc.constantFrom('webhook', 'storage', 'email', 'download', 'fax')),
    description: maybe(fc.string({ maxLength: 50 })),
    isDefault: maybe(fc.boolean()),
    disabled: maybe(fc.boolean()),
    delivery: partial({
      ordering: maybe(fc.constantFrom('parallel', 'strict', 'random')),
      onExhausted: maybe(fc.constantFrom('wait', 'skip', 'panic')),
      maxConcurrency: maybe(fc.integer({ min: -1, max: 2000 })),
      ratePerSecond: maybe(fc.integer({ min: -1, max: 20_000 })),
    }),
    config: partial({
      webhook: partial({
        url: maybe(urls),
        method: maybe(fc.constantFrom('POST', 'PUT', 'GET', 'DELETE')),
        headers: maybe(
          fc.dictionary(
            fc.constantFrom('X-Partner', 'webhook-id', 'Host', 'Bad Name', 'Content-Type'),
            fc.constantFrom('ok', 'a\r\nb: c', 'application/json', 'text/plain'),
          ),
        ),
        timeout: maybe(fc.integer({ min: 0, max: 40_000 })),
        secret: maybe(fc.constantFrom('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_short', '')),
      }),
      storage: partial({
        provider: maybe(fc.constantFrom('s3', 'r2', 'gcs')),
        path: maybe(fc.constantFrom('{organizationId}/{year}', '../x', 'a//b', '{nope}', '')),
        config: partial({
          bucket: maybe(fc.constantFrom('audit-archive', 'Bad_Bucket', 'x')),
          accessKeyId: maybe(fc.constantFrom('AKIA', 'a\nb')),
          secretAccessKey: maybe(fc.constantFrom('secret', '')),
          endpoint: maybe(urls),
        }),
        retention: partial({
          days: maybe(fc.integer({ min: -1, max: 40_000 })),
          autoCleanup: maybe(fc.boolean()),
        }),
      }),
      email: partial({
        service: maybe(fc.constantFrom('ses', 'smtp', 'sendgrid', 'pigeon')),
        from: maybe(fc.constantFrom('audit@hospital.com', 'not-an-address', 'a\r\n@b.com')),
        recipients: maybe(fc.array(fc.constantFrom('x@hospital.com', 'bad'), { maxLength: 3 })),
        subject: maybe(fc.constantFrom('Audit {{eventType}}', 'x\r\nBcc: y@z.com', '')),
        apiKey: maybe(fc.constantFrom('key', 'k\r\ny')),
        config: partial({
          host: maybe(fc.constantFrom('smtp.example.com', '10.0.0.1', 'localhost')),
          port: maybe(fc.integer({ min: -1, max: 70_000 })),
        }),
      }),
      download: partial({
        expiresIn: maybe(fc.integer({ min: 0, max: 1_000_000 })),
        maxDownloads: maybe(fc.integer({ min: -1, max: 20_000 })),
        notifyDestinationId: maybe(fc.constantFrom('dst_aaaaaaaaaaaaaaaaaaaa', '')),
      }),
    }),
  })
}

/** Everything about the tenant that a refused request must leave as it was. */
async function snapshot(tenant: Tenant) {
  const read = async (path: string) => {
    const response = await call(path, { token: tenant.apiKey })
    expect(response.status).toBe(200)
    return response.json
  }
  // Deliveries by id and sequence only: accepted ones keep moving on their own.
  const deliveries = (await read('/v1/deliveries?limit=200')).deliveries.map(
    (d: { deliveryId: string; sequence: number }) => [d.deliveryId, d.sequence],
  )
  return {
    deliveries,
    destinations: await read('/v1/destinations?limit=200'),
    audit: await read('/v1/audit-log?limit=200'),
  }
}

type Snapshot = Awaited<ReturnType<typeof snapshot>>

/**
 * Sends each generated body; a 5xx fails at once, a refusal must leave the snapshot
 * unchanged, and `accepted` (when given) checks what a 2xx added.
 */
async function checkRefusalsChangeNothing(
  tenant: Tenant,
  bodies: fc.Arbitrary<unknown>,
  send: (body: unknown) => ReturnType<typeof call>,
  numRuns: number,
  accepted?: (
    response: Awaited<ReturnType<typeof call>>,
    before: Snapshot,
    after: Snapshot,
  ) => void,
  examples: unknown[] = [],
) {
  let before = await snapshot(tenant)
  const seen = new Set<number>()
  await fc.assert(
    fc.asyncProperty(bodies, async (body) => {
      const response = await send(body)
      seen.add(response.status)
      expect(response.status, `${response.status} ${response.text}`).toBeLessThan(500)
      const after = await snapshot(tenant)
      if (response.status >= 400) {
        expect(response.json.error.code).toEqual(expect.any(String))
        expect(after).toEqual(before)
      } else accepted?.(response, before, after)
      before = after
    }),
    { numRuns, examples: examples.map((example) => [example] as [unknown]) },
  )
  return seen
}

describe('property: refused input changes nothing and never fails the server', () => {
  it('Should hold over generated delivery bodies', async () => {
    const tenant = await createTenant('property')
    const hook = await createWebhookDestination(tenant.apiKey)
    const statuses = await checkRefusalsChangeNothing(
      tenant,
      deliveryBody(tenant, hook.id),
      (body) => call('/v1/deliveries', { token: tenant.apiKey, body }),
      150,
      undefined,
      // Few generated bodies are valid in every field: this one makes sure a run has one.
      [{ destinations: hook.id, payload: { type: 'login', data: { user: 'u1' } } }],
    )
    // The run reaches both sides of the line.
    expect(statuses).toContain(202)
    expect(statuses).toContain(400)
  }, 240_000)

  it('Should hold over generated batch bodies', async () => {
    const tenant = await createTenant('property')
    const hook = await createWebhookDestination(tenant.apiKey)
    await checkRefusalsChangeNothing(
      tenant,
      partial({ deliveries: maybe(fc.array(deliveryBody(tenant, hook.id), { maxLength: 4 })) }),
      (body) => call('/v1/deliveries/batch', { token: tenant.apiKey, body }),
      60,
      (response, before, after) => {
        // Items are atomic: exactly the accepted ones were added, newest first.
        const added = after.deliveries.slice(0, after.deliveries.length - before.deliveries.length)
        const acceptedIds = response.json.results
          .filter((r: { status: string }) => r.status === 'accepted')
          .map((r: { deliveryId: string }) => r.deliveryId)
        expect(added.map(([id]: [string]) => id).sort()).toEqual(acceptedIds.sort())
      },
    )
  }, 240_000)

  it('Should hold over generated destination bodies', async () => {
    const tenant = await createTenant('property')
    const statuses = await checkRefusalsChangeNothing(
      tenant,
      destinationBody(peers().webhook.url),
      (body) => call('/v1/destinations', { token: tenant.apiKey, body }),
      200,
    )
    expect(statuses).toContain(400)
  }, 240_000)

  it('Should hold over generated patches of an existing destination', async () => {
    const tenant = await createTenant('property')
    const hook = await createWebhookDestination(tenant.apiKey)
    await checkRefusalsChangeNothing(
      tenant,
      destinationBody(peers().webhook.url),
      (body) =>
        call(`/v1/destinations/${hook.id}`, { method: 'PATCH', token: tenant.apiKey, body }),
      150,
    )
  }, 240_000)
})
