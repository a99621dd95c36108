/** Cron job: evaluates the organizations' alert rules every minute and sends what fires. */
import { log } from '../lib/logger'
import { evaluateAlertRules } from '../services/alerts/evaluator'
import type { ScheduledJob } from '.'

export const alertsJob: ScheduledJob = {
  name: 'alerts',
  async run(env, now) {
    const results = await evaluateAlertRules(env, now)
    const count = (outcome: string) => results.filter((r) => r.outcome === outcome).length
    log.info({
      event: 'alert_rules_evaluated',
      rules: results.length,
      fired: count('fired'),
      coolingDown: count('cooling_down'),
      notSent: count('not_sent'),
      errors: count('error'),
    })
  },
}
