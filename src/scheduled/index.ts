/**
 * Cron work, run by the `scheduled` handler (every minute in wrangler.toml; `npm start`
 * fires it locally). Each job is independent: one failing is logged and does not stop
 * the others.
 */
import type { ServiceEnv } from '../env'
import { log } from '../lib/logger'
import { alertsJob } from './alerts'
import { retentionCleanupJob } from './retention-cleanup'
import { secretRotationJob } from './secret-rotation'

/** A periodic job; `now` is the scheduled time. */
export interface ScheduledJob {
  name: string
  run(env: ServiceEnv, now: Date): Promise<void>
}

/** The jobs, in the order they run. */
export const scheduledJobs: ScheduledJob[] = [alertsJob, secretRotationJob, retentionCleanupJob]

export async function runScheduledJobs(
  env: ServiceEnv,
  now: Date,
  jobs: readonly ScheduledJob[] = scheduledJobs,
): Promise<void> {
  for (const job of jobs) {
    const started = Date.now()
    try {
      await job.run(env, now)
      log.info({
        event: 'scheduled_job',
        job: job.name,
        outcome: 'ok',
        durationMs: Date.now() - started,
      })
    } catch (error) {
      log.error({
        event: 'scheduled_job',
        job: job.name,
        outcome: 'failed',
        error: (error as Error).message,
        stack: (error as Error).stack,
      })
    }
  }
}
