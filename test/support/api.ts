/**
 * Test helpers that talk to the Worker over HTTP as a client would. Each test creates
 * its own organization, so tests never share tenants or depend on order.
 */
import { exports } from 'cloudflare:workers'

export const ADMIN_TOKEN = 'test-admin-token'
const BASE = 'http://service.test'

export interface CallOptions {
  method?: string
  token?: string | null
  body?: unknown
  rawBody?: string
  headers?: Record<string, string>
}

/** Sends a request through the Worker's fetch handler and returns status, headers and parsed JSON. */
export async function call(path: string, options: CallOptions = {}) {
  const headers = new Headers(options.headers)
  if (options.token) headers.set('authorization', `Bearer ${options.token}`)
  let body: string | undefined
  if (options.rawBody !== undefined) body = options.rawBody
  else if (options.body !== undefined) body = JSON.stringify(options.body)
  if (body !== undefined && !headers.has('content-type'))
    headers.set('content-type', 'application/json')
  // As an HTTP client would: the Worker decides some things by the declared length.
  if (body !== undefined && !headers.has('content-length'))
    headers.set('content-length', String(new TextEncoder().encode(body).byteLength))
  const response = await exports.default.fetch(
    new Request(`${BASE}${path}`, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
    }),
  )
  const text = await response.text()
  let json: unknown = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    json = text
  }
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response fields
  return { status: response.status, headers: response.headers, json: json as any, text }
}

let counter = 0

/** A fresh organization id, unique within the test run. */
export function uniqueOrganizationId(prefix = 'org'): string {
  counter += 1
  return `${prefix}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 6)}`
}

/** Creates an organization and one API key for it. */
export async function createTenant(
  prefix = 'org',
): Promise<{ organizationId: string; apiKey: string; keyId: string }> {
  const organizationId = uniqueOrganizationId(prefix)
  const created = await call('/v1/admin/organizations', {
    token: ADMIN_TOKEN,
    body: { id: organizationId, name: `Test ${organizationId}` },
  })
  if (created.status !== 201)
    throw new Error(`create organization: ${created.status} ${created.text}`)
  const issued = await call(`/v1/admin/organizations/${organizationId}/api-keys`, {
    token: ADMIN_TOKEN,
    body: { name: 'test' },
  })
  if (issued.status !== 201) throw new Error(`issue key: ${issued.status} ${issued.text}`)
  return { organizationId, apiKey: issued.json.key, keyId: issued.json.id }
}
