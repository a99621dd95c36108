/**
 * Download links. The envelope is sealed with the at-rest key into R2 under the tenant's
 * prefix; the reference is a link on `PUBLIC_BASE_URL` whose random token is the only
 * credential (only its SHA-256 is stored). Each attempt issues a fresh token and replaces
 * the delivery's link row, so after a retry only the newest link works. When the
 * destination names a notification destination (e-mail or webhook), the link is delivered
 * there as a small `download.ready` envelope; a failed notification fails the attempt.
 */
import { database } from '../db/client'
import { downloads } from '../db/schema'
import { buildEnvelope } from '../delivery/envelope'
import type { ServiceEnv } from '../env'
import { sealText } from '../lib/at-rest'
import { sha256Hex } from '../lib/crypto'
import { toBase64Url } from '../lib/encoding'
import { newId } from '../lib/ids'
import { log } from '../lib/logger'
import { r2Keys } from '../lib/r2-keys'
import type { LoadedDestination } from '../schemas/destination'
import { loadDestination } from '../services/destinations/repository'
import { deliverEmail } from './email/deliver'
import type { DeliveryHandler, DeliveryJob, Outcome } from './types'
import { deliverWebhook } from './webhook'

export type DownloadDestination = Extract<LoadedDestination, { type: 'download' }>
type NotifyDestination = Extract<LoadedDestination, { type: 'email' | 'webhook' }>

/** The payload type of the envelope that carries a new link to the notification destination. */
export const LINK_EVENT_TYPE = 'download.ready'

/** A new link token: 32 random bytes, base64url (43 characters). */
export function newDownloadToken(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)))
}

/** The public link for a token. */
export function downloadUrl(env: ServiceEnv, token: string): string {
  return `${env.PUBLIC_BASE_URL.replace(/\/+$/, '')}/v1/downloads/${token}`
}

async function notifyDestination(
  job: DeliveryJob,
  destination: DownloadDestination,
  env: ServiceEnv,
): Promise<NotifyDestination | null | Outcome> {
  const id = destination.config.notifyDestinationId
  if (!id) return null
  const found = await loadDestination(env, job.organizationId, id)
  if (!found || (found.type !== 'email' && found.type !== 'webhook')) {
    return {
      kind: 'permanent',
      code: 'notify_destination_invalid',
      message: `Notification destination "${id}" is not an e-mail or webhook destination of the organization`,
    }
  }
  if (found.disabled) {
    return {
      kind: 'permanent',
      code: 'notify_destination_disabled',
      message: `Notification destination "${id}" is disabled`,
    }
  }
  return found
}

/** The attempt that carries the link to the notification destination. */
function linkJob(
  job: DeliveryJob,
  notify: NotifyDestination,
  link: {
    url: string
    expiresAt: string
    maxDownloads: number
    tokenHash: string
    downloadDestinationId: string
  },
): DeliveryJob {
  const data = JSON.stringify({
    downloadUrl: link.url,
    expiresAt: link.expiresAt,
    maxDownloads: link.maxDownloads,
    deliveryId: job.deliveryId,
    destinationId: link.downloadDestinationId,
    payloadType: job.payloadType,
  })
  const metadata = JSON.stringify({ eventType: LINK_EVENT_TYPE, payloadType: job.payloadType })
  const fields = {
    deliveryId: job.deliveryId,
    payloadType: LINK_EVENT_TYPE,
    acceptedAt: job.acceptedAt,
    organizationId: job.organizationId,
    sequence: job.sequence,
    data,
    metadata,
    correlationId: job.correlationId,
    tags: job.tags,
  }
  return {
    ...job,
    destinationId: notify.id,
    // A new link is a new message: its id names the link, so a provider's idempotency
    // never swallows the newest link as a duplicate of an older one.
    messageId: `${job.messageId}.link.${link.tokenHash.slice(0, 16)}`,
    payloadType: LINK_EVENT_TYPE,
    data,
    metadata,
    envelope: buildEnvelope(fields),
  }
}

async function notifyLink(
  job: DeliveryJob,
  notify: NotifyDestination,
  env: ServiceEnv,
): Promise<Outcome> {
  const outcome =
    notify.type === 'webhook'
      ? await deliverWebhook(job, notify, env)
      : await deliverEmail(job, notify, env)
  if (outcome.kind === 'delivered') return outcome
  // The failure belongs to the notification destination; never disable the download one for it.
  const message = `Notifying destination ${notify.id} failed: ${outcome.message}`
  if (outcome.kind === 'retryable') return { ...outcome, message }
  return { kind: 'permanent', code: outcome.code, message, httpStatus: outcome.httpStatus }
}

export const deliverDownload: DeliveryHandler<DownloadDestination> = async (
  job,
  destination,
  env,
) => {
  const { config } = destination
  const notify = await notifyDestination(job, destination, env)
  if (notify && 'kind' in notify) return notify

  const objectKey = r2Keys.download(job.organizationId, job.deliveryId, destination.id)
  const token = newDownloadToken()
  const tokenHash = await sha256Hex(token)
  const now = new Date()
  const expiresAt = new Date(now.getTime() + config.expiresIn * 1000).toISOString()
  try {
    await env.ARTIFACTS.put(objectKey, await sealText(env.ENCRYPTION_KEYS, job.envelope), {
      httpMetadata: { contentType: 'application/octet-stream' },
      customMetadata: { organizationId: job.organizationId, deliveryId: job.deliveryId },
    })
    const row = {
      id: newId('download'),
      tokenHash,
      organizationId: job.organizationId,
      deliveryId: job.deliveryId,
      destinationId: destination.id,
      objectKey,
      expiresAt,
      maxDownloads: config.maxDownloads,
      downloadCount: 0,
      revokedAt: null,
      createdAt: now.toISOString(),
    }
    const { organizationId: _o, deliveryId: _d, destinationId: _t, ...replaced } = row
    await database(env.DB)
      .insert(downloads)
      .values(row)
      .onConflictDoUpdate({
        target: [downloads.organizationId, downloads.deliveryId, downloads.destinationId],
        set: replaced,
      })
      .run()
  } catch (error) {
    log.warn({
      event: 'download_store_failed',
      organizationId: job.organizationId,
      deliveryId: job.deliveryId,
      destinationId: destination.id,
      error: (error as Error).message,
    })
    return { kind: 'retryable', code: 'storage_error', message: 'The download could not be stored' }
  }

  const url = downloadUrl(env, token)
  if (notify) {
    const link = {
      url,
      expiresAt,
      maxDownloads: config.maxDownloads,
      tokenHash,
      downloadDestinationId: destination.id,
    }
    const notified = await notifyLink(linkJob(job, notify, link), notify, env)
    if (notified.kind !== 'delivered') return notified
  }
  return { kind: 'delivered', reference: { downloadUrl: url, expiresAt } }
}
