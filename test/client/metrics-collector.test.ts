import { describe, expect, it } from 'vitest'
import { createDeliveryMetricsCollector } from '../../src/client/index.ts'

/** A clock the test moves by hand. */
function manualClock(start = Date.parse('2026-12-03T12:00:00.000Z')) {
  let now = start
  return { now: () => now, advance: (ms: number) => (now += ms) }
}

describe('createDeliveryMetricsCollector', () => {
  it('Should count batches, events and errors overall and per collectInterval window', () => {
    const clock = manualClock()
    const collector = createDeliveryMetricsCollector({ collectInterval: 10_000, now: clock.now })
    collector.recordBatchProcessed(1000)
    clock.advance(4000)
    collector.recordBatchProcessed(1000)
    clock.advance(8000)
    collector.recordBatchError()
    collector.recordBatchError(500)
    clock.advance(8000)
    expect(collector.snapshot()).toEqual({
      enabled: true,
      startedAt: '2026-12-03T12:00:00.000Z',
      elapsedMs: 20_000,
      batchesProcessed: 2,
      eventsProcessed: 2000,
      batchErrors: 2,
      failedEvents: 500,
      eventsPerSecond: 100,
      intervals: [
        {
          start: '2026-12-03T12:00:00.000Z',
          batches: 2,
          events: 2000,
          batchErrors: 0,
          failedEvents: 0,
        },
        {
          start: '2026-12-03T12:00:10.000Z',
          batches: 0,
          events: 0,
          batchErrors: 2,
          failedEvents: 500,
        },
      ],
    })
  })

  it('Should keep only the newest maxIntervals windows', () => {
    const clock = manualClock()
    const collector = createDeliveryMetricsCollector({
      collectInterval: 1000,
      maxIntervals: 2,
      now: clock.now,
    })
    for (let window = 0; window < 3; window += 1) {
      collector.recordBatchProcessed(window + 1)
      clock.advance(1000)
    }
    const snapshot = collector.snapshot()
    expect(snapshot.intervals.map((interval) => interval.events)).toEqual([2, 3])
    expect(snapshot.eventsProcessed).toBe(6)
  })

  it('Should ignore every record when disabled', () => {
    const collector = createDeliveryMetricsCollector({ enabled: false })
    collector.recordBatchProcessed(1000)
    collector.recordBatchError(10)
    expect(collector.snapshot()).toMatchObject({
      enabled: false,
      batchesProcessed: 0,
      eventsProcessed: 0,
      batchErrors: 0,
      intervals: [],
    })
  })
})
