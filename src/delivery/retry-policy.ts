/**
 * When to try again. Pure functions, so the schedule is tested without the runtime.
 *
 * The n-th retry waits `baseDelay * 2^(n-1)`, capped at `maxDelay`, with equal jitter
 * (half fixed, half random) so that receivers recovering from an outage are not hit by
 * every sender at once. A `Retry-After` from the receiver is honoured within bounds: never
 * shorter than the backoff, never longer than a day.
 */
import type { Settings } from '../schemas/settings'

export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000

export type RetryPolicy = Settings['retry']

/** Milliseconds to wait after `attemptsMade` failed attempts; `random` is in [0, 1). */
export function retryDelayMs(
  policy: RetryPolicy,
  attemptsMade: number,
  retryAfterMs: number | undefined,
  random: number,
): number {
  const exponential = policy.baseDelay * 2 ** Math.max(0, attemptsMade - 1)
  const capped = Math.min(policy.maxDelay, exponential)
  const backoff = Math.round(capped / 2 + (capped / 2) * random)
  if (retryAfterMs === undefined) return backoff
  return Math.max(backoff, Math.min(Math.max(0, retryAfterMs), MAX_RETRY_AFTER_MS))
}

/** Whether another attempt is allowed after `attemptsMade` attempts. */
export function hasAttemptsLeft(policy: RetryPolicy, attemptsMade: number): boolean {
  return attemptsMade < policy.maxAttempts
}
