import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hasAttemptsLeft, MAX_RETRY_AFTER_MS, retryDelayMs } from '../../src/delivery/retry-policy'

const policy = { maxAttempts: 5, baseDelay: 1000, maxDelay: 8000 }

describe('retryDelayMs', () => {
  it('doubles from the base delay, half fixed and half jitter', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(policy, n, undefined, 0))).toEqual([
      500, 1000, 2000, 4000,
    ])
    expect([1, 2, 3, 4].map((n) => retryDelayMs(policy, n, undefined, 0.999999))).toEqual([
      1000, 2000, 4000, 8000,
    ])
  })

  it('never exceeds maxDelay however many attempts were made', () => {
    expect(retryDelayMs(policy, 60, undefined, 0.999999)).toBe(8000)
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempts, random) => {
          const delay = retryDelayMs(policy, attempts, undefined, random)
          expect(delay).toBeGreaterThanOrEqual(policy.baseDelay / 2)
          expect(delay).toBeLessThanOrEqual(policy.maxDelay)
        },
      ),
    )
  })

  it('honours Retry-After when longer than the backoff, bounded to a day', () => {
    expect(retryDelayMs(policy, 1, 30_000, 0)).toBe(30_000)
    expect(retryDelayMs(policy, 3, 100, 0)).toBe(2000)
    expect(retryDelayMs(policy, 1, 10 * MAX_RETRY_AFTER_MS, 0)).toBe(MAX_RETRY_AFTER_MS)
    expect(retryDelayMs(policy, 1, -5, 0)).toBe(500)
  })
})

describe('hasAttemptsLeft', () => {
  it('allows attempts up to maxAttempts in all', () => {
    expect(hasAttemptsLeft(policy, 4)).toBe(true)
    expect(hasAttemptsLeft(policy, 5)).toBe(false)
  })
})
