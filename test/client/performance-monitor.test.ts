import { describe, expect, it } from 'vitest'
import { createDeliveryPerformanceMonitor, percentile, summarize } from '../../src/client/index.ts'

describe('createDeliveryPerformanceMonitor', () => {
  it('Should time named work and summarise it with nearest-rank percentiles', () => {
    let now = 0
    const monitor = createDeliveryPerformanceMonitor({ now: () => now })
    for (const duration of [30, 10, 20, 40, 100]) {
      const timer = monitor.startTimer('batch')
      now += duration
      expect(timer.end()).toBe(duration)
    }
    expect(monitor.summary()).toEqual({
      batch: { count: 5, min: 10, max: 100, mean: 40, p50: 30, p95: 100, p99: 100 },
    })
  })

  it('Should keep only the sampled share of timers and records', () => {
    const draws = [0.05, 0.5, 0.09, 0.95]
    const monitor = createDeliveryPerformanceMonitor({
      sampleRate: 0.1,
      random: () => draws.shift() ?? 1,
      now: () => 0,
    })
    expect(monitor.startTimer('stream').end()).toBe(0)
    expect(monitor.startTimer('stream').end()).toBeNull()
    monitor.record('latency', 12)
    monitor.record('latency', 99)
    expect(monitor.summary()).toEqual({
      stream: { count: 1, min: 0, max: 0, mean: 0, p50: 0, p95: 0, p99: 0 },
      latency: { count: 1, min: 12, max: 12, mean: 12, p50: 12, p95: 12, p99: 12 },
    })
  })

  it('Should count a timer once even when end() is called twice', () => {
    let now = 0
    const monitor = createDeliveryPerformanceMonitor({ now: () => now })
    const timer = monitor.startTimer('once')
    now = 5
    expect(timer.end()).toBe(5)
    expect(timer.end()).toBeNull()
    expect(monitor.summary().once?.count).toBe(1)
  })

  it('Should record nothing when disabled, and refuse a sample rate outside 0 to 1', () => {
    const monitor = createDeliveryPerformanceMonitor({ enabled: false })
    monitor.record('x', 1)
    expect(monitor.startTimer('x').end()).toBeNull()
    expect(monitor.summary()).toEqual({})
    expect(() => createDeliveryPerformanceMonitor({ sampleRate: 1.5 })).toThrow(
      new RangeError('sampleRate must be 0 to 1'),
    )
  })
})

describe('percentile', () => {
  it('Should take the nearest rank of the sorted values', () => {
    const values = Array.from({ length: 20 }, (_, index) => index + 1)
    expect(percentile(values, 50)).toBe(10)
    expect(percentile(values, 95)).toBe(19)
    expect(percentile(values, 100)).toBe(20)
    expect(percentile([7], 95)).toBe(7)
    expect(percentile([], 50)).toBeNaN()
    expect(summarize([3, 1, 2]).p50).toBe(2)
  })
})
