import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { writeAnalyticsPoints } from '../../src/services/metrics/analytics-engine'
import { readRollups } from '../../src/services/metrics/query'
import { recordMetricEvents } from '../../src/services/metrics/recorder'
import { type MetricEvent, rollUp, writeRollups } from '../../src/services/metrics/rollup'

const MINUTE = 60_000
const T0 = Date.UTC(2026, 2, 7, 4, 5, 0)

function attempt(
  destinationId: string,
  atMs: number,
  durationMs: number | null,
  verdict: 'delivered' | 'failed' | 'retrying' | 'skipped' | 'ignored',
  organizationId = 'hospital-roll',
): MetricEvent {
  return {
    kind: 'attempt',
    organizationId,
    destinationId,
    destinationType: 'webhook',
    atMs,
    durationMs,
    verdict,
  }
}

function accepted(destinationId: string, atMs: number, organizationId = 'hospital-roll') {
  return {
    kind: 'accepted' as const,
    organizationId,
    destinationId,
    destinationType: 'webhook',
    atMs,
  }
}

/** A fake Analytics Engine dataset that keeps what it is given. */
function recordingDataset() {
  const points: AnalyticsEngineDataPoint[] = []
  const dataset: AnalyticsEngineDataset = {
    writeDataPoint: (point?: AnalyticsEngineDataPoint) => {
      points.push(point ?? {})
    },
  }
  return { points, dataset }
}

describe('roll-ups', () => {
  it('Should sum events per organization, destination and minute, counting verdicts and latency', () => {
    const rows = rollUp([
      accepted('dst_a', T0 + 1000),
      accepted('dst_a', T0 + 2000),
      attempt('dst_a', T0 + 3000, 40, 'delivered'),
      attempt('dst_a', T0 + 4000, 300, 'retrying'),
      attempt('dst_a', T0 + MINUTE + 1, 120, 'failed'),
      attempt('dst_b', T0 + 5000, null, 'failed'),
      attempt('dst_b', T0 + 6000, 31000, 'ignored'),
    ])
    expect(rows).toEqual([
      {
        organizationId: 'hospital-roll',
        destinationId: 'dst_a',
        destinationType: 'webhook',
        minute: T0 / MINUTE,
        accepted: 2,
        delivered: 1,
        failed: 0,
        retried: 1,
        attempts: 2,
        latencySumMs: 340,
        buckets: [1, 0, 0, 1, 0, 0, 0, 0, 0, 0],
      },
      {
        organizationId: 'hospital-roll',
        destinationId: 'dst_a',
        destinationType: 'webhook',
        minute: T0 / MINUTE + 1,
        accepted: 0,
        delivered: 0,
        failed: 1,
        retried: 0,
        attempts: 1,
        latencySumMs: 120,
        buckets: [0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
      },
      {
        organizationId: 'hospital-roll',
        destinationId: 'dst_b',
        destinationType: 'webhook',
        minute: T0 / MINUTE,
        accepted: 0,
        delivered: 0,
        failed: 1,
        retried: 0,
        attempts: 2,
        latencySumMs: 31000,
        buckets: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
      },
    ])
  })

  it('Should add to stored rows instead of replacing them, across statements of five rows', async () => {
    const organizationId = `roll-${crypto.randomUUID().slice(0, 8)}`
    // 12 destinations: three multi-row statements (5 + 5 + 2 rows) in one batch.
    const destinations = Array.from({ length: 12 }, (_, i) => `dst_${String(i).padStart(2, '0')}`)
    const events = destinations.map((id) => attempt(id, T0, 60, 'delivered', organizationId))
    await writeRollups(env.DB, rollUp(events))
    await writeRollups(env.DB, rollUp(events))
    await writeRollups(env.DB, rollUp([accepted('dst_00', T0, organizationId)]))
    const { destinations: sums } = await readRollups(
      env.DB,
      { organizationId, fromMinute: T0 / MINUTE, toMinute: T0 / MINUTE + 1 },
      null,
    )
    expect(sums.map((row) => row.destinationId)).toEqual(destinations)
    expect(sums[0]).toEqual({
      destinationId: 'dst_00',
      destinationType: 'webhook',
      accepted: 1,
      delivered: 2,
      failed: 0,
      retried: 0,
      attempts: 2,
      latencySumMs: 120,
      buckets: [0, 2, 0, 0, 0, 0, 0, 0, 0, 0],
    })
    expect(sums.every((row) => row.delivered === 2 && row.attempts === 2)).toBe(true)
  })

  it('Should keep a known destination type when a later writer only knows "unknown"', async () => {
    const organizationId = `roll-${crypto.randomUUID().slice(0, 8)}`
    await writeRollups(env.DB, rollUp([accepted('dst_t', T0, organizationId)]))
    await writeRollups(
      env.DB,
      rollUp([
        { ...attempt('dst_t', T0, 10, 'failed', organizationId), destinationType: 'unknown' },
      ]),
    )
    const { destinations } = await readRollups(
      env.DB,
      { organizationId, fromMinute: 0, toMinute: Number.MAX_SAFE_INTEGER },
      null,
    )
    expect(destinations).toMatchObject([
      { destinationId: 'dst_t', destinationType: 'webhook', accepted: 1, failed: 1 },
    ])
  })

  it('Should sum into slots of the asked size and only inside the range', async () => {
    const organizationId = `roll-${crypto.randomUUID().slice(0, 8)}`
    const hour = Math.floor(T0 / 3_600_000) * 3_600_000
    await recordMetricEvents(env, [
      attempt('dst_s', hour + 5 * MINUTE, 10, 'delivered', organizationId),
      attempt('dst_s', hour + 59 * MINUTE, 10, 'delivered', organizationId),
      attempt('dst_s', hour + 60 * MINUTE, 10, 'failed', organizationId),
      attempt('dst_s', hour + 120 * MINUTE, 10, 'failed', organizationId),
    ])
    const { slots, destinations } = await readRollups(
      env.DB,
      {
        organizationId,
        fromMinute: hour / MINUTE,
        toMinute: hour / MINUTE + 120,
      },
      60,
    )
    expect(slots.map((slot) => [slot.slot, slot.delivered, slot.failed])).toEqual([
      [hour / MINUTE, 2, 0],
      [hour / MINUTE + 60, 0, 1],
    ])
    expect(destinations).toMatchObject([{ delivered: 2, failed: 1, attempts: 3 }])
  })

  it('Should write one Analytics Engine point per row, indexed by organization', () => {
    const { points, dataset } = recordingDataset()
    const rows = rollUp([
      accepted('dst_a', T0),
      attempt('dst_a', T0, 70, 'delivered'),
      attempt('dst_b', T0, 20, 'retrying'),
    ])
    expect(writeAnalyticsPoints(dataset, rows)).toBe(2)
    expect(points).toEqual([
      {
        indexes: ['hospital-roll'],
        blobs: ['dst_a', 'webhook'],
        doubles: [1, 1, 0, 0, 1, 70, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
      },
      {
        indexes: ['hospital-roll'],
        blobs: ['dst_b', 'webhook'],
        doubles: [0, 0, 0, 1, 1, 20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      },
    ])
    expect(writeAnalyticsPoints(undefined, rows)).toBe(0)
  })

  it('Should stop at 250 Analytics Engine points in one invocation', () => {
    const { points, dataset } = recordingDataset()
    const rows = rollUp(
      Array.from({ length: 300 }, (_, i) => attempt(`dst_${i}`, T0, 5, 'delivered')),
    )
    expect(writeAnalyticsPoints(dataset, rows)).toBe(250)
    expect(points).toHaveLength(250)
  })

  it('Should write D1 and Analytics Engine from one call, and survive a failing D1 write', async () => {
    const organizationId = `roll-${crypto.randomUUID().slice(0, 8)}`
    const { points, dataset } = recordingDataset()
    await recordMetricEvents({ DB: env.DB, ANALYTICS: dataset }, [
      accepted('dst_x', T0, organizationId),
    ])
    expect(points).toHaveLength(1)
    const broken = {
      prepare: () => {
        throw new Error('D1 is down')
      },
      batch: () => Promise.reject(new Error('D1 is down')),
    } as unknown as D1Database
    await expect(
      recordMetricEvents({ DB: broken, ANALYTICS: dataset }, [
        accepted('dst_x', T0, organizationId),
      ]),
    ).resolves.toBeUndefined()
    expect(points).toHaveLength(2)
  })
})
