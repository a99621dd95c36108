/**
 * `createDeliveryMetricsCollector`, as the seed's high-volume example uses it: counts the
 * batches and events a producer processed and the batches that failed, overall and per
 * `collectInterval` window, so a long run can show its throughput over time. It keeps no
 * timer: windows are derived from the time of each record.
 */

export interface DeliveryMetricsCollectorOptions {
  /** When false every record is ignored and the snapshot stays at zero. Default true. */
  enabled?: boolean
  /** Window length in ms for `intervals`. Default 10000. */
  collectInterval?: number
  /** Windows kept, newest last. Default 360 (an hour of 10-second windows). */
  maxIntervals?: number
  /** Clock in ms; tests pass their own. Default `Date.now`. */
  now?: () => number
}

export interface MetricsInterval {
  start: string
  batches: number
  events: number
  batchErrors: number
  failedEvents: number
}

export interface DeliveryMetricsSnapshot {
  enabled: boolean
  startedAt: string
  elapsedMs: number
  batchesProcessed: number
  eventsProcessed: number
  batchErrors: number
  failedEvents: number
  /** Events processed per second since the collector was created. */
  eventsPerSecond: number
  intervals: MetricsInterval[]
}

export interface DeliveryMetricsCollector {
  /** A batch of `events` events went through. */
  recordBatchProcessed(events: number): void
  /** A batch failed; `events` is how many events it held, when known. */
  recordBatchError(events?: number): void
  snapshot(): DeliveryMetricsSnapshot
}

export function createDeliveryMetricsCollector(
  options: DeliveryMetricsCollectorOptions = {},
): DeliveryMetricsCollector {
  const enabled = options.enabled ?? true
  const windowMs = options.collectInterval ?? 10_000
  if (!(windowMs > 0)) throw new RangeError('collectInterval must be above 0')
  const maxIntervals = options.maxIntervals ?? 360
  const now = options.now ?? Date.now
  const startedAt = now()
  const totals = { batches: 0, events: 0, batchErrors: 0, failedEvents: 0 }
  const windows = new Map<number, Omit<MetricsInterval, 'start'>>()

  function windowAt(time: number): Omit<MetricsInterval, 'start'> {
    const index = Math.floor((time - startedAt) / windowMs)
    let window = windows.get(index)
    if (!window) {
      window = { batches: 0, events: 0, batchErrors: 0, failedEvents: 0 }
      windows.set(index, window)
      // Maps keep insertion order and windows are created in time order: drop the oldest.
      if (windows.size > maxIntervals) windows.delete(windows.keys().next().value as number)
    }
    return window
  }

  return {
    recordBatchProcessed(events) {
      if (!enabled) return
      const window = windowAt(now())
      totals.batches += 1
      totals.events += events
      window.batches += 1
      window.events += events
    },
    recordBatchError(events = 0) {
      if (!enabled) return
      const window = windowAt(now())
      totals.batchErrors += 1
      totals.failedEvents += events
      window.batchErrors += 1
      window.failedEvents += events
    },
    snapshot() {
      const elapsedMs = now() - startedAt
      return {
        enabled,
        startedAt: new Date(startedAt).toISOString(),
        elapsedMs,
        batchesProcessed: totals.batches,
        eventsProcessed: totals.events,
        batchErrors: totals.batchErrors,
        failedEvents: totals.failedEvents,
        eventsPerSecond: elapsedMs > 0 ? (totals.events * 1000) / elapsedMs : 0,
        intervals: [...windows.entries()].map(([index, window]) => ({
          start: new Date(startedAt + index * windowMs).toISOString(),
          ...window,
        })),
      }
    },
  }
}
