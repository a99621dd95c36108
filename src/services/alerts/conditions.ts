/**
 * Whether a rule's condition holds, from the figures the evaluator gathered: sums over
 * the rule's window (failure rate, latency) or the live destination overview (consecutive
 * failures, backlog age). Pure; the answer carries what was observed, for the alert.
 */
import type { DestinationOverview } from '../../durable-objects/organization/backlog'
import type { AlertCondition } from '../../schemas/alert-rule'
import { quantile } from '../metrics/histogram'
import type { RollupCounts } from '../metrics/rollup'

export type Evaluation = { firing: false } | { firing: true; observed: Record<string, unknown> }

const QUANTILES = { p50: 0.5, p95: 0.95, p99: 0.99 } as const

/** Whether the kind needs sums over a trailing window of roll-ups. */
export function windowMinutesOf(rule: AlertCondition): number | null {
  return rule.kind === 'failure_rate' || rule.kind === 'latency'
    ? rule.condition.windowMinutes
    : null
}

export function evaluateCondition(
  rule: AlertCondition,
  inputs: { window: RollupCounts | null; destinations: readonly DestinationOverview[] },
): Evaluation {
  switch (rule.kind) {
    case 'failure_rate': {
      const { delivered, failed } = inputs.window ?? { delivered: 0, failed: 0 }
      const settled = delivered + failed
      if (settled < rule.condition.minOutcomes) return { firing: false }
      const failureRate = failed / settled
      if (failureRate < rule.condition.threshold) return { firing: false }
      return {
        firing: true,
        observed: { failureRate, delivered, failed, windowMinutes: rule.condition.windowMinutes },
      }
    }
    case 'latency': {
      const buckets = inputs.window?.buckets ?? []
      const attempts = buckets.reduce((sum, n) => sum + n, 0)
      if (attempts < rule.condition.minAttempts) return { firing: false }
      const value = quantile(buckets, QUANTILES[rule.condition.percentile])
      if (value === null || value < rule.condition.thresholdMs) return { firing: false }
      return {
        firing: true,
        observed: {
          percentile: rule.condition.percentile,
          latencyMs: Math.round(value * 10) / 10,
          attempts,
          windowMinutes: rule.condition.windowMinutes,
        },
      }
    }
    case 'consecutive_failures': {
      const failing = inputs.destinations.filter(
        (d) => d.consecutiveFailures >= rule.condition.threshold,
      )
      if (failing.length === 0) return { firing: false }
      return {
        firing: true,
        observed: {
          destinations: failing.map((d) => ({
            destinationId: d.destinationId,
            label: d.label,
            consecutiveFailures: d.consecutiveFailures,
            circuit: d.circuit,
          })),
        },
      }
    }
    case 'backlog_age': {
      const limitMs = rule.condition.thresholdSeconds * 1000
      const stale = inputs.destinations.filter(
        (d) => d.backlog.oldestAgeMs !== null && d.backlog.oldestAgeMs >= limitMs,
      )
      if (stale.length === 0) return { firing: false }
      return {
        firing: true,
        observed: {
          destinations: stale.map((d) => ({
            destinationId: d.destinationId,
            label: d.label,
            ...d.backlog,
          })),
        },
      }
    }
  }
}
