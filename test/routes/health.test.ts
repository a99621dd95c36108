import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import type { ServiceEnv } from '../../src/env'
import { call } from '../support/api'

/** Calls the app directly with a changed environment (a dependency made to fail). */
async function readyWith(overrides: Partial<ServiceEnv>) {
  const ctx = createExecutionContext()
  const response = await createApp().fetch(
    new Request('http://service.test/readyz'),
    { ...(env as ServiceEnv), ...overrides },
    ctx,
  )
  await waitOnExecutionContext(ctx)
  return { status: response.status, json: await response.json() }
}

const failing = (name: string) => () => Promise.reject(Object.assign(new Error('down'), { name }))

describe('health', () => {
  it('Should answer liveness without a credential', async () => {
    const response = await call('/healthz')
    expect(response.status).toBe(200)
    expect(response.json).toEqual({ status: 'ok' })
  })

  it('Should be ready when D1, the queue and R2 answer', async () => {
    const response = await call('/readyz')
    expect(response.status).toBe(200)
    expect(response.json).toEqual({
      status: 'ready',
      checks: { d1: { ok: true }, r2: { ok: true }, queue: { ok: true } },
    })
  })

  it('Should answer 503 naming each dependency that failed, without its message', async () => {
    const broken = await readyWith({
      DB: { prepare: () => ({ first: failing('D1Error') }) } as unknown as D1Database,
      ARTIFACTS: { head: failing('R2Error') } as unknown as R2Bucket,
    })
    expect(broken.status).toBe(503)
    expect(broken.json).toEqual({
      status: 'not_ready',
      checks: {
        d1: { ok: false, error: 'D1Error' },
        r2: { ok: false, error: 'R2Error' },
        queue: { ok: true },
      },
    })
    const queue = await readyWith({
      DELIVERY_QUEUE: { send: failing('QueueError') } as unknown as Queue,
    })
    expect(queue.json).toEqual({
      status: 'not_ready',
      checks: { d1: { ok: true }, r2: { ok: true }, queue: { ok: false, error: 'QueueError' } },
    })
  })
})
