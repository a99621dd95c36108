/**
 * R2 delivery through the service's bound bucket: the envelope at the destination's key
 * under the organization's own prefix (`r2Keys.storageObject`), with the same metadata as
 * S3 and a SHA-256 that R2 checks before it stores the object.
 */
import { log } from '../lib/logger'
import { r2Keys } from '../lib/r2-keys'
import type { LoadedDestination, StorageConfig } from '../schemas/destination'
import { objectKeyFor } from './storage-key'
import type { DeliveryHandler } from './types'

export type R2Destination = Extract<LoadedDestination, { type: 'storage' }> & {
  config: Extract<StorageConfig, { provider: 'r2' }>
}

export const deliverR2: DeliveryHandler<R2Destination> = async (job, destination, env) => {
  const key = objectKeyFor(destination.config.path, job)
  if (!key.ok) return { kind: 'permanent', code: 'invalid_object_key', message: key.reason }
  const objectKey = r2Keys.storageObject(job.organizationId, key.key)
  const body = new TextEncoder().encode(job.envelope)
  const customMetadata: Record<string, string> = {
    organizationId: job.organizationId,
    deliveryId: job.deliveryId,
    sequence: String(job.sequence),
  }
  if (job.correlationId !== null) customMetadata.correlationId = job.correlationId
  try {
    await env.ARTIFACTS.put(objectKey, body, {
      httpMetadata: { contentType: 'application/json' },
      customMetadata,
      sha256: await crypto.subtle.digest('SHA-256', body),
    })
  } catch (error) {
    // R2 failures are the platform's, not the tenant's: try again later.
    log.warn({
      event: 'r2_put_failed',
      organizationId: job.organizationId,
      deliveryId: job.deliveryId,
      destinationId: job.destinationId,
      error: (error as Error).message,
    })
    return { kind: 'retryable', code: 'storage_error', message: 'R2 did not store the object' }
  }
  return { kind: 'delivered', reference: { objectKey } }
}
