import { describe, expect, it } from 'vitest'
import {
  bucketIndex,
  emptyBuckets,
  LATENCY_COLUMNS,
  quantile,
  summarizeLatency,
} from '../../src/services/metrics/histogram'

/** Buckets with the given counts at the given bucket indexes. */
function buckets(counts: Record<number, number>): number[] {
  const out = emptyBuckets()
  for (const [index, count] of Object.entries(counts)) out[Number(index)] = count
  return out
}

describe('latency histogram', () => {
  it('Should put a duration in the first bucket whose edge is at least the duration', () => {
    expect([0, 50, 51, 100, 101, 250, 30000, 30001, 1e9].map(bucketIndex)).toEqual([
      0, 0, 1, 1, 2, 2, 8, 9, 9,
    ])
    expect(LATENCY_COLUMNS).toEqual([
      'latency_le_50',
      'latency_le_100',
      'latency_le_250',
      'latency_le_500',
      'latency_le_1000',
      'latency_le_2500',
      'latency_le_5000',
      'latency_le_10000',
      'latency_le_30000',
      'latency_le_inf',
    ])
  })

  it('Should interpolate linearly inside the bucket that holds the rank', () => {
    // 10 attempts in (0, 50], 10 in (50, 100]: rank 10 ends the first bucket exactly.
    const histogram = buckets({ 0: 10, 1: 10 })
    expect(quantile(histogram, 0.5)).toBe(50)
    expect(quantile(histogram, 0.95)).toBe(50 + (50 * (19 - 10)) / 10)
    expect(quantile(histogram, 0.99)).toBeCloseTo(50 + (50 * (19.8 - 10)) / 10, 10)
    expect(quantile(histogram, 0.25)).toBe(25)
  })

  it('Should skip empty buckets and start the first bucket at 0', () => {
    expect(quantile(buckets({ 3: 4 }), 0.5)).toBe(250 + (250 * 2) / 4)
    expect(quantile(buckets({ 0: 1 }), 0.5)).toBe(25)
  })

  it('Should report a rank in the open top bucket as the last finite edge', () => {
    expect(quantile(buckets({ 0: 1, 9: 99 }), 0.5)).toBe(30000)
  })

  it('Should answer null without observations', () => {
    expect(quantile(emptyBuckets(), 0.5)).toBeNull()
    expect(summarizeLatency(emptyBuckets(), 0)).toMatchObject({
      count: 0,
      p50: null,
      p95: null,
      p99: null,
      mean: null,
    })
  })

  it('Should summarize with an exact mean and every bucket labelled by its edge', () => {
    const summary = summarizeLatency(buckets({ 0: 2, 2: 1 }), 40 + 30 + 200)
    expect(summary).toEqual({
      count: 3,
      p50: 37.5,
      p95: 100 + 150 * ((2.85 - 2) / 1),
      p99: 100 + 150 * 0.97,
      mean: 90,
      buckets: [
        { le: 50, count: 2 },
        { le: 100, count: 0 },
        { le: 250, count: 1 },
        { le: 500, count: 0 },
        { le: 1000, count: 0 },
        { le: 2500, count: 0 },
        { le: 5000, count: 0 },
        { le: 10000, count: 0 },
        { le: 30000, count: 0 },
        { le: null, count: 0 },
      ],
    })
  })
})
