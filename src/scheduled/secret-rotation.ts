/**
 * Cron job: automatic rotation of webhook signing secrets for organizations whose settings
 * ask for it (`security.webhookSecrets.rotationDays` above 0; the settings route refuses
 * that without an `alertDestinationId`).
 *
 * A secret is due when the audit trail's last record of it being set (created, rotated,
 * or replaced by a PATCH) is `rotationDays` old. The new secret is generated first and
 * sent as an operational event to the organization's alert destination; only once that
 * event is stored in the organization's outbox does the new secret start signing, with
 * the old one beside it for `graceHours`. A secret that cannot be announced is not rotated;
 * if the rotation then fails, the announced secret never signs and the next round sends another.
 *
 * Secrets age in days, so the job looks at most once an hour (its last complete round is
 * kept in `cron_cursors`).
 */
import { organizationStub } from '../durable-objects/organization-stub'
import type { ServiceEnv } from '../env'
import { log } from '../lib/logger'
import type { Settings } from '../schemas/settings'
import { rotateWebhookSecret } from '../services/destinations/changes'
import { generateWebhookSecret } from '../services/destinations/generated-secrets'
import type { ScheduledJob } from '.'
import { readCursor, writeCursor } from './cron-cursors'

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000
const ROUND_CURSOR = 'webhook-secret-rotation'
/** Destinations read per query while walking the candidates. */
const PAGE = 200

/** The type of the operational event that carries a new secret. */
export const SECRET_ROTATED_EVENT = 'operational.webhook_secret_rotated'

interface Candidate {
  id: string
  organizationId: string
  label: string
  secretSince: string
}

/**
 * A page of the webhook destinations of active organizations whose secret was set at least
 * a day before `now` (the shortest rotation period), oldest first, after `after`.
 */
async function candidates(
  env: ServiceEnv,
  now: Date,
  after: Candidate | null,
): Promise<Candidate[]> {
  const { results } = await env.DB.prepare(
    `SELECT id, organizationId, label, secretSince FROM (
       SELECT d.id AS id, d.organization_id AS organizationId, d.label AS label,
         coalesce((SELECT max(a.created_at) FROM audit_log a
           WHERE a.organization_id = d.organization_id AND a.resource_id = d.id
             AND (a.action IN ('destination.created', 'destination.secret_rotated')
               OR (a.action = 'destination.updated'
                 AND json_extract(a.before, '$.config.webhook.secret') IS NOT json_extract(a.after, '$.config.webhook.secret')))),
           d.created_at) AS secretSince
       FROM destinations d JOIN organizations o ON o.id = d.organization_id
       WHERE d.type = 'webhook' AND o.status = 'active')
     WHERE secretSince <= ?1 AND (?2 IS NULL OR secretSince > ?2 OR (secretSince = ?2 AND id > ?3))
     ORDER BY secretSince, id LIMIT ?4`,
  )
    .bind(
      new Date(now.getTime() - DAY_MS).toISOString(),
      after?.secretSince ?? null,
      after?.id ?? null,
      PAGE,
    )
    .all<Candidate>()
  return results
}

/** Rotates every secret that is due at `now`; answers how many it rotated. */
export async function rotateDueSecrets(env: ServiceEnv, now: Date): Promise<number> {
  const policies = new Map<string, Settings['security'] | null>()
  let rotated = 0
  let after: Candidate | null = null
  for (;;) {
    const page = await candidates(env, now, after)
    for (const destination of page) {
      const { organizationId } = destination
      if (!policies.has(organizationId)) {
        const { security } = await organizationStub(env, organizationId).getSettings()
        const rotating = security.webhookSecrets.rotationDays > 0 && security.alertDestinationId
        policies.set(organizationId, rotating ? security : null)
      }
      const policy = policies.get(organizationId)
      if (!policy?.alertDestinationId) continue
      const cutoff = now.getTime() - policy.webhookSecrets.rotationDays * DAY_MS
      if (Date.parse(destination.secretSince) > cutoff) continue
      const graceHours = policy.webhookSecrets.graceHours
      if (await rotateOne(env, destination, policy.alertDestinationId, graceHours, now))
        rotated += 1
    }
    if (page.length < PAGE) return rotated
    after = page.at(-1) as Candidate
  }
}

/** Announces a new secret, then lets it sign. False when it could not be announced. */
async function rotateOne(
  env: ServiceEnv,
  destination: Candidate,
  alertDestinationId: string,
  graceHours: number,
  now: Date,
): Promise<boolean> {
  const { organizationId, id: destinationId } = destination
  const secret = generateWebhookSecret()
  const announced = await organizationStub(env, organizationId).emitOperationalEvent({
    type: SECRET_ROTATED_EVENT,
    data: {
      organizationId,
      destinationId,
      label: destination.label,
      secret,
      rotatedAt: now.toISOString(),
      previousSecretValidUntil: new Date(now.getTime() + graceHours * HOUR_MS).toISOString(),
    },
    destinationIds: [alertDestinationId],
  })
  if (announced?.kind !== 'accepted') {
    log.error({
      event: 'webhook_secret_rotation_skipped',
      organizationId,
      destinationId,
      reason: announced?.kind === 'rejected' ? announced.error.code : 'not_announced',
    })
    return false
  }
  await rotateWebhookSecret(
    { env, organizationId, actor: 'system', requestId: null },
    destinationId,
    secret,
  )
  log.info({
    event: 'webhook_secret_rotated',
    organizationId,
    destinationId,
    deliveryId: announced.response.deliveryId,
  })
  return true
}

export const secretRotationJob: ScheduledJob = {
  name: 'webhook-secret-rotation',
  async run(env, now) {
    const lastRound = await readCursor(env.DB, ROUND_CURSOR)
    if (lastRound && now.getTime() - Date.parse(lastRound) < HOUR_MS) return
    const rotated = await rotateDueSecrets(env, now)
    await writeCursor(env.DB, ROUND_CURSOR, now.toISOString())
    log.info({ event: 'webhook_secrets_checked', rotated })
  },
}
