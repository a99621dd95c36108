/**
 * Connection tests: each really talks to the destination, without delivering an event.
 * - webhook: a signed request whose envelope has type `destination.test`;
 * - S3: a probe object written with the destination's own settings, then deleted;
 * - R2 and download: a probe object written to the tenant's prefix, then deleted;
 * - e-mail: the provider's harmless credential check (SMTP: connect, EHLO, AUTH, QUIT).
 * A download destination's notification destination is checked to exist, not sent to.
 */
import { buildEnvelope } from '../delivery/envelope'
import type { ServiceEnv } from '../env'
import { randomToken } from '../lib/ids'
import { r2Keys } from '../lib/r2-keys'
import type { LoadedDestination } from '../schemas/destination'
import { loadDestination } from '../services/destinations/repository'
import { checkEmailProvider } from './email/deliver'
import { deliverR2, type R2Destination } from './storage-r2'
import { deliverS3, type S3Destination, s3Request } from './storage-s3'
import type { DeliveryJob, Outcome } from './types'
import { deliverWebhook } from './webhook'

/** The payload type of the connection test's envelope. */
export const TEST_EVENT_TYPE = 'destination.test'

/** A job that carries a `destination.test` envelope instead of a tenant's event. */
export function probeJob(destination: LoadedDestination, requestId: string | null): DeliveryJob {
  const probeId = `probe_${randomToken(20)}`
  const acceptedAt = new Date().toISOString()
  const data = JSON.stringify({
    destinationId: destination.id,
    message: 'Connection test from the audit delivery service; no event is delivered.',
  })
  const fields = {
    deliveryId: probeId,
    payloadType: TEST_EVENT_TYPE,
    acceptedAt,
    organizationId: destination.organizationId,
    sequence: 0,
    data,
    metadata: null,
    correlationId: null,
    tags: [],
  }
  return {
    ...fields,
    destinationId: destination.id,
    messageId: `msg_${probeId}`,
    attempt: 1,
    envelope: buildEnvelope(fields),
    requestId,
  }
}

async function probeS3(
  destination: S3Destination,
  job: DeliveryJob,
  env: ServiceEnv,
): Promise<Outcome> {
  const written = await deliverS3(job, destination, env)
  if (written.kind !== 'delivered' || !written.reference.objectKey) return written
  const key = written.reference.objectKey
  const removed = await s3Request(destination, env, key, { method: 'DELETE' })
  if ('outcome' in removed) {
    const failure = removed.outcome
    if (failure.kind === 'delivered') return written
    return {
      ...failure,
      message: `The probe object ${key} was written but not deleted: ${failure.message}`,
    }
  }
  await removed.response.body?.cancel()
  if (!removed.response.ok) {
    return {
      kind: 'permanent',
      code: `http_${removed.response.status}`,
      message: `The probe object ${key} was written but S3 refused to delete it (${removed.response.status})`,
      httpStatus: removed.response.status,
    }
  }
  return written
}

async function probeR2Key(env: ServiceEnv, key: string): Promise<Outcome> {
  try {
    await env.ARTIFACTS.put(key, 'probe')
    await env.ARTIFACTS.delete(key)
  } catch {
    return {
      kind: 'retryable',
      code: 'storage_error',
      message: 'R2 did not accept the probe object',
    }
  }
  return { kind: 'delivered', reference: {} }
}

async function probeDownload(
  destination: Extract<LoadedDestination, { type: 'download' }>,
  job: DeliveryJob,
  env: ServiceEnv,
): Promise<Outcome> {
  const notifyId = destination.config.notifyDestinationId
  if (notifyId) {
    const notify = await loadDestination(env, destination.organizationId, notifyId)
    if (!notify || (notify.type !== 'email' && notify.type !== 'webhook')) {
      return {
        kind: 'permanent',
        code: 'notify_destination_invalid',
        message: `Notification destination "${notifyId}" is not an e-mail or webhook destination of the organization`,
      }
    }
  }
  return probeR2Key(
    env,
    r2Keys.download(destination.organizationId, job.deliveryId, destination.id),
  )
}

/** Runs the connection test for a destination. */
export async function probeDestination(
  destination: LoadedDestination,
  env: ServiceEnv,
  requestId: string | null = null,
): Promise<Outcome> {
  const job = probeJob(destination, requestId)
  switch (destination.type) {
    case 'webhook':
      return deliverWebhook(job, destination, env)
    case 'email':
      return checkEmailProvider(destination, env)
    case 'download':
      return probeDownload(destination, job, env)
    case 'storage': {
      if (destination.config.provider === 's3')
        return probeS3(destination as S3Destination, job, env)
      const written = await deliverR2(job, destination as R2Destination, env)
      if (written.kind === 'delivered' && written.reference.objectKey)
        await env.ARTIFACTS.delete(written.reference.objectKey)
      return written
    }
  }
}
