/**
 * Accepted counts from the ingest routes, coalesced per isolate: the first request of a
 * window schedules one write `FLUSH_DELAY_MS` later (kept alive by its `waitUntil`), and
 * every request in that window adds to the same in-memory rows. Under load this turns one
 * D1 write per request into about two per second per isolate; the counts never depend on
 * when they are written, since each event carries its own minute.
 */
import type { ServiceEnv } from '../../env'
import { recordRollups } from './recorder'
import { type MetricEvent, RollupAccumulator } from './rollup'

export const FLUSH_DELAY_MS = 500

const pending = new RollupAccumulator()
let scheduled = false

export function bufferMetricEvents(
  ctx: Pick<ExecutionContext, 'waitUntil'>,
  env: Pick<ServiceEnv, 'DB' | 'ANALYTICS'>,
  events: readonly MetricEvent[],
): void {
  if (events.length === 0) return
  pending.add(events)
  if (scheduled) return
  scheduled = true
  ctx.waitUntil(
    new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS)).then(() => {
      scheduled = false
      return recordRollups(env, pending.take())
    }),
  )
}
