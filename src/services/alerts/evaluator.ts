/**
 * Evaluates every enabled alert rule of active organizations, one organization at a time
 * (one failing does not stop the others). A rule whose condition holds and whose
 * cool-down has passed is claimed (compare-and-set on `last_fired_at`) and its alert sent
 * as an `operational.alert` event through the organization's object, so it is recorded,
 * retried and auditable like any delivery. An alert that cannot be sent releases the claim.
 */
import type { DestinationOverview } from '../../durable-objects/organization/backlog'
import { organizationStub } from '../../durable-objects/organization-stub'
import type { ServiceEnv } from '../../env'
import { log } from '../../lib/logger'
import { type AlertCondition, type AlertRule, CONDITION_SCHEMAS } from '../../schemas/alert-rule'
import { readRollups } from '../metrics/query'
import { addCounts, emptyCounts, minuteOf, type RollupCounts } from '../metrics/rollup'
import { evaluateCondition, windowMinutesOf } from './conditions'
import { enabledAlertRules, moveLastFired } from './repository'

export type RuleOutcome =
  | 'fired'
  | 'quiet'
  | 'cooling_down'
  | 'claimed_elsewhere'
  | 'not_sent'
  | 'invalid'
  | 'error'

export interface RuleResult {
  alertRuleId: string
  organizationId: string
  outcome: RuleOutcome
}

export const ALERT_EVENT_TYPE = 'operational.alert'

export async function evaluateAlertRules(env: ServiceEnv, now: Date): Promise<RuleResult[]> {
  const rules = await enabledAlertRules(env.DB)
  const results: RuleResult[] = []
  for (const [organizationId, ofOrganization] of Map.groupBy(rules, (r) => r.organizationId)) {
    try {
      results.push(...(await evaluateOrganization(env, organizationId, ofOrganization, now)))
    } catch (error) {
      log.error({
        event: 'alert_evaluation_failed',
        organizationId,
        error: (error as Error).message,
        stack: (error as Error).stack,
      })
      for (const rule of ofOrganization)
        results.push({ alertRuleId: rule.id, organizationId, outcome: 'error' })
    }
  }
  return results
}

async function evaluateOrganization(
  env: ServiceEnv,
  organizationId: string,
  rules: AlertRule[],
  now: Date,
): Promise<RuleResult[]> {
  const overview = await organizationStub(env, organizationId).destinationOverview()
  const results: RuleResult[] = []
  for (const rule of rules) {
    const outcome = await evaluateRule(env, rule, overview, now)
    results.push({ alertRuleId: rule.id, organizationId, outcome })
    if (outcome !== 'quiet' && outcome !== 'cooling_down')
      log.info({ event: 'alert_rule_evaluated', organizationId, alertRuleId: rule.id, outcome })
  }
  return results
}

async function evaluateRule(
  env: ServiceEnv,
  rule: AlertRule,
  overview: readonly DestinationOverview[],
  now: Date,
): Promise<RuleOutcome> {
  const nowMs = now.getTime()
  if (rule.lastFiredAt && nowMs - Date.parse(rule.lastFiredAt) < rule.cooldownMinutes * 60_000)
    return 'cooling_down'
  const parsed = CONDITION_SCHEMAS[rule.kind].safeParse(rule.condition)
  if (!parsed.success) return 'invalid'
  const condition = { kind: rule.kind, condition: parsed.data } as AlertCondition
  const watched = overview.filter(
    (d) => !rule.destinationId || d.destinationId === rule.destinationId,
  )
  const windowMinutes = windowMinutesOf(condition)
  const window = windowMinutes === null ? null : await windowSums(env, rule, windowMinutes, nowMs)
  const evaluation = evaluateCondition(condition, { window, destinations: watched })
  if (!evaluation.firing) return 'quiet'

  // Only destinations that can still receive: an unknown or disabled one would refuse the event.
  const usable = new Set(
    overview.filter((d) => d.type !== null && !d.disabled).map((d) => d.destinationId),
  )
  const recipients = rule.notify.filter((id) => usable.has(id))
  if (recipients.length === 0) {
    log.warn({
      event: 'alert_not_sent',
      organizationId: rule.organizationId,
      alertRuleId: rule.id,
      reason: 'no_usable_notify_destination',
    })
    return 'not_sent'
  }
  const firedAt = now.toISOString()
  if (!(await moveLastFired(env.DB, rule, rule.lastFiredAt, firedAt))) return 'claimed_elsewhere'
  try {
    const result = await organizationStub(env, rule.organizationId).emitOperationalEvent({
      type: ALERT_EVENT_TYPE,
      data: {
        alertRuleId: rule.id,
        organizationId: rule.organizationId,
        name: rule.name,
        kind: rule.kind,
        condition: parsed.data,
        destinationId: rule.destinationId,
        observed: evaluation.observed,
        firedAt,
      },
      destinationIds: recipients,
    })
    if (result?.kind === 'accepted') return 'fired'
    await moveLastFired(env.DB, rule, firedAt, rule.lastFiredAt)
    return 'not_sent'
  } catch (error) {
    await moveLastFired(env.DB, rule, firedAt, rule.lastFiredAt)
    throw error
  }
}

/** Sums over the trailing `minutes` whole minutes, the current one included. */
async function windowSums(
  env: ServiceEnv,
  rule: AlertRule,
  minutes: number,
  nowMs: number,
): Promise<RollupCounts> {
  const current = minuteOf(nowMs)
  const { destinations } = await readRollups(
    env.DB,
    {
      organizationId: rule.organizationId,
      fromMinute: current - minutes + 1,
      toMinute: current + 1,
      destinationId: rule.destinationId ?? undefined,
    },
    null,
  )
  const total = emptyCounts()
  for (const row of destinations) addCounts(total, row)
  return total
}
