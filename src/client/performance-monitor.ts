/**
 * `createDeliveryPerformanceMonitor`, as the seed's high-volume example uses it: named
 * timers (`startTimer(name).end()`) and recorded durations, sampled at `sampleRate`,
 * summarised per name with nearest-rank percentiles.
 */

export interface DeliveryPerformanceMonitorOptions {
  /** When false nothing is recorded. Default true. */
  enabled?: boolean
  /** Share of timers and records kept, 0 to 1. Default 1. */
  sampleRate?: number
  /** Clock in ms. Default `performance.now`. */
  now?: () => number
  /** Random source for sampling, in [0, 1). Default `Math.random`. */
  random?: () => number
}

export interface TimingSummary {
  count: number
  min: number
  max: number
  mean: number
  p50: number
  p95: number
  p99: number
}

export interface PerformanceTimer {
  /** Stops the timer; returns the duration in ms, or null when it was not sampled. */
  end(): number | null
}

export interface DeliveryPerformanceMonitor {
  startTimer(name: string): PerformanceTimer
  /** Adds a duration measured elsewhere (subject to sampling). */
  record(name: string, durationMs: number): void
  /** Per name: count, min, max, mean and the 50th, 95th and 99th percentiles, in ms. */
  summary(): Record<string, TimingSummary>
}

/** The nearest-rank percentile of ascending `sorted` values (`p` in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[Math.min(rank, sorted.length) - 1] as number
}

/** Summarises a list of durations. */
export function summarize(durations: readonly number[]): TimingSummary {
  const sorted = [...durations].sort((a, b) => a - b)
  const total = sorted.reduce((sum, value) => sum + value, 0)
  return {
    count: sorted.length,
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length > 0 ? total / sorted.length : Number.NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  }
}

export function createDeliveryPerformanceMonitor(
  options: DeliveryPerformanceMonitorOptions = {},
): DeliveryPerformanceMonitor {
  const enabled = options.enabled ?? true
  const sampleRate = options.sampleRate ?? 1
  if (!(sampleRate >= 0 && sampleRate <= 1)) throw new RangeError('sampleRate must be 0 to 1')
  const now = options.now ?? (() => performance.now())
  const random = options.random ?? Math.random
  const durations = new Map<string, number[]>()

  const sampled = () => enabled && (sampleRate >= 1 || random() < sampleRate)
  const keep = (name: string, durationMs: number) => {
    const list = durations.get(name)
    if (list) list.push(durationMs)
    else durations.set(name, [durationMs])
  }

  return {
    startTimer(name) {
      if (!sampled()) return { end: () => null }
      const started = now()
      let ended = false
      return {
        end() {
          if (ended) return null
          ended = true
          const duration = now() - started
          keep(name, duration)
          return duration
        },
      }
    },
    record(name, durationMs) {
      if (sampled()) keep(name, durationMs)
    },
    summary() {
      return Object.fromEntries([...durations].map(([name, list]) => [name, summarize(list)]))
    },
  }
}
