/**
 * Bad input on every route, driven by the service's own OpenAPI document so that a route
 * added later without an entry here fails the coverage test. Every route that takes a
 * body answers malformed JSON with 400, another content type with 415 and an oversized
 * body with 413; every route with a JSON body schema names the field of a wrong type and
 * refuses unknown fields (the documented choice: unknown body fields are rejected, unknown
 * query parameters are ignored); every list route names a bad `limit`.
 */
import { describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, call, createTenant } from '../support/api'

interface Operation {
  requestBody?: { content?: Record<string, unknown> }
  parameters?: Array<{ name: string; in: string }>
}
type Spec = { paths: Record<string, Record<string, Operation>> }

const spec = (await call('/openapi.json')).json as Spec
const MIB = 1024 * 1024

/** Ids of the right shape that exist nowhere: validation answers before any lookup. */
const PARAMS: Record<string, string> = {
  id: 'dst_aaaaaaaaaaaaaaaaaaaa',
  orgId: 'no-such-organization',
  keyId: 'key_aaaaaaaaaaaaaaaaaaaa',
}

/** For each route with a JSON body: a body with one field of the wrong type, and that field. */
const WRONG_TYPES: Record<string, { body: unknown; path: string }> = {
  'POST /v1/admin/organizations': { body: { id: 42, name: 'x' }, path: 'id' },
  'PATCH /v1/admin/organizations/{orgId}': { body: { status: true }, path: 'status' },
  'POST /v1/admin/organizations/{orgId}/api-keys': { body: { name: ['x'] }, path: 'name' },
  'PUT /v1/settings': { body: { retry: { maxAttempts: 'five' } }, path: 'retry.maxAttempts' },
  'POST /v1/destinations': {
    body: { label: 7, type: 'webhook', config: { webhook: { url: 'https://example.com/h' } } },
    path: 'label',
  },
  'PATCH /v1/destinations/{id}': { body: { isDefault: 'yes' }, path: 'isDefault' },
  'POST /v1/destinations/{id}/recover': { body: { since: 1700000000 }, path: 'since' },
  'POST /v1/destinations/{id}/replay': { body: { since: 'yesterday' }, path: 'since' },
  'POST /v1/deliveries': {
    body: { destinations: 'default', payload: { type: 't', data: 1 }, options: { priority: '9' } },
    path: 'options.priority',
  },
  'POST /v1/deliveries/batch': { body: { deliveries: { 0: {} } }, path: 'deliveries' },
  'POST /v1/alert-rules': {
    body: { kind: 'consecutive_failures', name: 5, condition: { threshold: 3 }, notify: [] },
    path: 'name',
  },
  'PATCH /v1/alert-rules/{id}': { body: { enabled: 'no' }, path: 'enabled' },
}

/** Out-of-range values where a route has a bounded number. */
const OUT_OF_RANGE: Record<string, { body: unknown; path: string }> = {
  'PUT /v1/settings': { body: { retry: { maxAttempts: 101 } }, path: 'retry.maxAttempts' },
  'POST /v1/deliveries': {
    body: { destinations: 'default', payload: { type: 't', data: 1 }, options: { priority: 11 } },
    path: 'options.priority',
  },
  'POST /v1/destinations': {
    body: {
      label: 'x',
      type: 'webhook',
      config: { webhook: { url: 'https://example.com/h', timeout: 999_999 } },
    },
    path: 'config.webhook.timeout',
  },
}

/** A body that is fine apart from one unknown field at the top. */
const WITH_UNKNOWN_FIELD: Record<string, unknown> = {
  'POST /v1/admin/organizations': { id: 'unknown-field-org', name: 'x', colour: 'blue' },
  'PATCH /v1/admin/organizations/{orgId}': { colour: 'blue' },
  'POST /v1/admin/organizations/{orgId}/api-keys': { name: 'x', colour: 'blue' },
  'PUT /v1/settings': { colour: 'blue' },
  'POST /v1/destinations': {
    label: 'x',
    type: 'webhook',
    config: { webhook: { url: 'https://example.com/h' } },
    colour: 'blue',
  },
  'PATCH /v1/destinations/{id}': { colour: 'blue' },
  'POST /v1/destinations/{id}/recover': { since: '2026-01-01T00:00:00Z', colour: 'blue' },
  'POST /v1/destinations/{id}/replay': { since: '2026-01-01T00:00:00Z', colour: 'blue' },
  'POST /v1/deliveries': {
    destinations: 'default',
    payload: { type: 't', data: 1 },
    colour: 'blue',
  },
  'POST /v1/deliveries/batch': { deliveries: [], colour: 'blue' },
  'POST /v1/alert-rules': {
    kind: 'consecutive_failures',
    name: 'x',
    condition: { threshold: 3 },
    notify: [],
    colour: 'blue',
  },
  'PATCH /v1/alert-rules/{id}': { colour: 'blue' },
}

const operations = Object.entries(spec.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({
    key: `${method.toUpperCase()} ${path}`,
    method: method.toUpperCase(),
    path,
    operation,
  })),
)
const writes = operations.filter(
  (op) => ['POST', 'PUT', 'PATCH'].includes(op.method) && op.path.startsWith('/v1/'),
)
const withJsonBody = writes.filter((op) => op.operation.requestBody?.content?.['application/json'])
const lists = operations.filter(
  (op) => op.method === 'GET' && op.operation.parameters?.some((p) => p.name === 'limit'),
)

function concrete(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => PARAMS[name] ?? 'x')
}

async function tokenFor(path: string): Promise<string> {
  return path.startsWith('/v1/admin/') ? ADMIN_TOKEN : (await createTenant('input')).apiKey
}

function bodyLimit(path: string): number {
  return path.startsWith('/v1/deliveries') ? 10 * MIB + 64 * 1024 : MIB
}

function issuesOf(
  response: Awaited<ReturnType<typeof call>>,
): Array<{ path: string; message: string }> {
  expect(response.status, response.text).toBe(400)
  expect(response.json.error.code).toBe('validation_error')
  return response.json.error.details.issues
}

describe('bad input: coverage', () => {
  it('Should have a wrong-type and an unknown-field case for every route with a JSON body', () => {
    const keys = withJsonBody.map((op) => op.key).sort()
    expect(keys.length).toBeGreaterThan(5)
    expect(keys.filter((key) => !(key in WRONG_TYPES))).toEqual([])
    expect(keys.filter((key) => !(key in WITH_UNKNOWN_FIELD))).toEqual([])
  })
})

describe('bad input: request format on every route that takes a body', () => {
  for (const op of writes) {
    it(`${op.key}: Should answer 400 invalid_json, 415 and 413 in the error shape`, async () => {
      const token = await tokenFor(op.path)
      const url = concrete(op.path)

      const malformed = await call(url, { method: op.method, token, rawBody: '{"a":' })
      expect(malformed.status).toBe(400)
      expect(malformed.json.error).toMatchObject({
        code: 'invalid_json',
        message: expect.stringMatching(/^Request body is not valid JSON in UTF-8: /),
        requestId: expect.any(String),
      })

      const form = await call(url, {
        method: op.method,
        token,
        rawBody: 'a=b',
        headers: { 'content-type': 'text/plain' },
      })
      expect(form.status).toBe(415)
      expect(form.json.error).toEqual({
        code: 'unsupported_media_type',
        message: 'Content-Type must be application/json, got "text/plain"',
        requestId: expect.any(String),
      })

      const limit = bodyLimit(op.path)
      const huge = await call(url, {
        method: op.method,
        token,
        rawBody: `{"a":"${'x'.repeat(limit)}"}`,
      })
      expect(huge.status).toBe(413)
      expect(huge.json.error).toEqual({
        code: 'payload_too_large',
        message: `Request body exceeds ${limit} bytes`,
        details: { limitBytes: limit },
        requestId: expect.any(String),
      })
    })
  }
})

describe('bad input: field types, ranges and unknown fields', () => {
  for (const op of withJsonBody) {
    it(`${op.key}: Should name a field of the wrong type and refuse an unknown field`, async () => {
      const token = await tokenFor(op.path)
      const url = concrete(op.path)
      const wrong = WRONG_TYPES[op.key]
      if (!wrong) throw new Error(`no wrong-type case for ${op.key}`)
      const typed = await call(url, { method: op.method, token, body: wrong.body })
      expect(issuesOf(typed).map((issue) => issue.path)).toContain(wrong.path)

      const unknown = await call(url, {
        method: op.method,
        token,
        body: WITH_UNKNOWN_FIELD[op.key],
      })
      expect(issuesOf(unknown)).toContainEqual({
        path: '(body)',
        message: 'Unrecognized key: "colour"',
      })

      const range = OUT_OF_RANGE[op.key]
      if (range) {
        const outOfRange = await call(url, { method: op.method, token, body: range.body })
        expect(issuesOf(outOfRange).map((issue) => issue.path)).toContain(range.path)
      }
    })
  }
})

describe('bad input: query parameters of list routes', () => {
  for (const op of lists) {
    it(`${op.key}: Should name a limit that is not a number or out of range`, async () => {
      const token = await tokenFor(op.path)
      const url = concrete(op.path)
      for (const limit of ['abc', '0', '201', '-1']) {
        const response = await call(`${url}?limit=${limit}`, { token })
        expect(
          issuesOf(response).map((issue) => issue.path),
          limit,
        ).toEqual(['query.limit'])
      }
    })
  }
})
