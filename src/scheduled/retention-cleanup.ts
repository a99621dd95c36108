/**
 * Cron job: retention at the destinations. Storage destinations (S3 and R2) whose
 * `retention` has `autoCleanup` lose the objects older than `retention.days`, judged by the
 * accept date their keys carry (see `services/retention/key-dates.ts`), never a younger one.
 *
 * Each destination is walked in passes of at most `LIST_BUDGET` keys; where a pass stopped
 * is kept in `cron_cursors`, so the next minute's run resumes there. A destination whose
 * round completed is looked at again an hour later. A failing store is logged and retried
 * on the next run from the same cursor.
 */
import type { ServiceEnv } from '../env'
import type { S3Destination } from '../handlers/storage-s3'
import { log } from '../lib/logger'
import type { StorageConfig } from '../schemas/destination'
import { type DestinationRecord, listDestinations } from '../services/destinations/repository'
import { cleanStore } from '../services/retention/cleanup'
import type { ObjectStore } from '../services/retention/object-store'
import { r2Store } from '../services/retention/r2-store'
import { s3Store } from '../services/retention/s3-store'
import type { ScheduledJob } from '.'
import { readCursor, writeCursor } from './cron-cursors'

const HOUR_MS = 3_600_000
/** Keys examined per destination per run. */
const LIST_BUDGET = 5000
/** A run stops taking new destinations after this long (cron invocations are bounded). */
const RUN_BUDGET_MS = 60_000

interface CursorState {
  /** Resume the listing after this key; null to start at the beginning. */
  after: string | null
  /** When the last complete round ended. */
  roundEndedAt: string | null
}

const cursorName = (destinationId: string) => `retention-cleanup:${destinationId}`

/** Storage destinations of active organizations that ask for cleanup. */
async function candidates(env: ServiceEnv): Promise<{ id: string; organizationId: string }[]> {
  const { results } = await env.DB.prepare(
    `SELECT d.id AS id, d.organization_id AS organizationId FROM destinations d
     JOIN organizations o ON o.id = d.organization_id AND o.status = 'active'
     WHERE d.type = 'storage' AND json_extract(d.config, '$.retention.autoCleanup') = 1
     ORDER BY d.id`,
  ).all<{ id: string; organizationId: string }>()
  return results
}

type StorageRecord = DestinationRecord & { config: StorageConfig }

/** Whether two storage destinations write into the same place (so their keys may collide). */
function sameStore(a: StorageConfig, b: StorageConfig): boolean {
  if (a.provider === 'r2' || b.provider === 'r2') return a.provider === b.provider
  return a.config.bucket === b.config.bucket && a.config.endpoint === b.config.endpoint
}

function storeFor(env: ServiceEnv, record: StorageRecord): ObjectStore | string {
  if (record.config.provider === 'r2') return r2Store(env.ARTIFACTS, record.organizationId)
  return s3Store({ ...record, type: 'storage' } as unknown as S3Destination, env)
}

/** One pass over one destination; answers what it did, or throws when the store failed. */
export async function cleanDestination(
  env: ServiceEnv,
  organizationId: string,
  destinationId: string,
  now: Date,
  listBudget = LIST_BUDGET,
): Promise<{ examined: number; deleted: number; done: boolean } | null> {
  const name = cursorName(destinationId)
  const raw = await readCursor(env.DB, name)
  const state: CursorState = raw ? JSON.parse(raw) : { after: null, roundEndedAt: null }
  if (state.roundEndedAt && now.getTime() - Date.parse(state.roundEndedAt) < HOUR_MS) return null

  const storage = (
    await listDestinations(env, organizationId, { type: 'storage' }, { after: null, limit: 1000 })
  ).map((record) => ({ ...record, config: record.config as StorageConfig }))
  const record = storage.find((candidate) => candidate.id === destinationId)
  if (!record?.config.retention?.autoCleanup) return null
  const store = storeFor(env, record)
  if (typeof store === 'string') throw new Error(store)

  const others = storage.filter(
    (other) => other.id !== destinationId && sameStore(other.config, record.config),
  )
  const pass = await cleanStore(
    store,
    organizationId,
    record.config,
    others.map((other) => other.config),
    now.getTime(),
    { startAfter: state.after, listBudget },
  )
  const done = pass.resumeAfter === null
  const next: CursorState = done
    ? { after: null, roundEndedAt: now.toISOString() }
    : { after: pass.resumeAfter, roundEndedAt: null }
  await writeCursor(env.DB, name, JSON.stringify(next))
  return { examined: pass.examined, deleted: pass.deleted, done }
}

export const retentionCleanupJob: ScheduledJob = {
  name: 'retention-cleanup',
  async run(env, now) {
    const started = Date.now()
    for (const { id, organizationId } of await candidates(env)) {
      if (Date.now() - started > RUN_BUDGET_MS) break
      try {
        const pass = await cleanDestination(env, organizationId, id, now)
        if (pass)
          log.info({ event: 'retention_cleanup', organizationId, destinationId: id, ...pass })
      } catch (error) {
        log.error({
          event: 'retention_cleanup_failed',
          organizationId,
          destinationId: id,
          error: (error as Error).message,
        })
      }
    }
  },
}
