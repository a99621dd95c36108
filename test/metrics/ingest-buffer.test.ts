import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { bufferMetricEvents } from '../../src/services/metrics/ingest-buffer'
import { readRollups } from '../../src/services/metrics/query'
import type { MetricEvent } from '../../src/services/metrics/rollup'

const T0 = Date.UTC(2026, 2, 7, 4, 5, 0)

function accepted(organizationId: string, destinationId: string, atMs = T0): MetricEvent {
  return { kind: 'accepted', organizationId, destinationId, destinationType: 'webhook', atMs }
}

/** A D1 binding that counts batches and passes them to the real one. */
function countingDb() {
  const batches: number[] = []
  const db = new Proxy(env.DB, {
    get(target, property) {
      if (property === 'batch')
        return (statements: D1PreparedStatement[]) => {
          batches.push(statements.length)
          return target.batch(statements)
        }
      const value = Reflect.get(target, property)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { db, batches }
}

describe('ingest metrics buffer', () => {
  it('Should write the counts of many requests in one batch after a short delay', async () => {
    const organizationId = `buf-${crypto.randomUUID().slice(0, 8)}`
    const { db, batches } = countingDb()
    const waits: Promise<unknown>[] = []
    const ctx = { waitUntil: (promise: Promise<unknown>) => waits.push(promise) }
    const target = { DB: db, ANALYTICS: undefined }
    bufferMetricEvents(ctx, target, [accepted(organizationId, 'dst_a')])
    bufferMetricEvents(ctx, target, [
      accepted(organizationId, 'dst_a'),
      accepted(organizationId, 'dst_b'),
    ])
    bufferMetricEvents(ctx, target, [accepted(organizationId, 'dst_a', T0 + 60_000)])
    expect(waits).toHaveLength(1)
    expect(batches).toEqual([])
    await Promise.all(waits)
    // Three rows (dst_a twice in one minute, once in the next; dst_b once): one statement.
    expect(batches).toEqual([1])
    const { destinations } = await readRollups(
      env.DB,
      { organizationId, fromMinute: 0, toMinute: Number.MAX_SAFE_INTEGER },
      null,
    )
    expect(destinations.map((row) => [row.destinationId, row.accepted])).toEqual([
      ['dst_a', 3],
      ['dst_b', 1],
    ])

    bufferMetricEvents(ctx, target, [accepted(organizationId, 'dst_b')])
    expect(waits).toHaveLength(2)
    await Promise.all(waits)
    expect(batches).toEqual([1, 1])
  })
})
