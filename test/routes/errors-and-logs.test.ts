import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApp } from '../../src/app'
import { call, createTenant } from '../support/api'

afterEach(() => vi.restoreAllMocks())

const lines = (spy: { mock: { calls: unknown[][] } }) =>
  spy.mock.calls.map((args) => JSON.parse(String(args[0])) as Record<string, unknown>)

describe('errors', () => {
  it('answers anything unexpected with a generic 500 and logs it with its stack', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    vi.spyOn(console, 'log').mockImplementation(() => {})
    const app = createApp()
    app.get('/boom', () => {
      throw new Error('internal detail that must not leak')
    })
    const response = await app.request('/boom', {}, env)
    const body = (await response.json()) as { error: Record<string, string> }
    expect(response.status).toBe(500)
    expect(body).toEqual({
      error: {
        code: 'internal_error',
        message: 'An unexpected error occurred; quote the requestId when reporting it',
        requestId: response.headers.get('x-request-id'),
      },
    })
    const [logged] = lines(errors)
    expect(logged).toMatchObject({
      level: 'error',
      event: 'unhandled_error',
      error: 'internal detail that must not leak',
      route: '/boom',
    })
    expect(logged?.stack).toContain('Error: internal detail that must not leak')
  })

  it('answers an unknown route with the error shape', async () => {
    const response = await call('/v1/nothing-here', { token: 'x' })
    expect(response.status).toBe(401)
    const open = await call('/nothing-here')
    expect(open.status).toBe(404)
    expect(open.json.error).toMatchObject({
      code: 'not_found',
      message: 'No route for GET /nothing-here',
    })
  })
})

describe('request logs', () => {
  it('writes one JSON line per request with its id, organization, route, status and duration, and no secrets', async () => {
    const tenant = await createTenant()
    const logs = vi.spyOn(console, 'log')
    const response = await call('/v1/settings', { token: tenant.apiKey })
    const requestLines = lines(logs).filter((line) => line.event === 'request')
    expect(requestLines).toEqual([
      {
        time: expect.any(String),
        level: 'info',
        event: 'request',
        requestId: response.headers.get('x-request-id'),
        organizationId: tenant.organizationId,
        method: 'GET',
        route: '/v1/settings',
        status: 200,
        durationMs: expect.any(Number),
      },
    ])
    expect(JSON.stringify(logs.mock.calls)).not.toContain(tenant.apiKey.slice(-64))
  })

  it('keeps a well-formed request id the caller sends', async () => {
    const response = await call('/healthz', { headers: { 'X-Request-Id': 'trace-123' } })
    expect(response.headers.get('x-request-id')).toBe('trace-123')
  })
})
