/**
 * The contract between the queue consumer and the delivery handlers. A handler makes
 * one attempt and returns an outcome value; it throws only for bugs. The consumer maps
 * outcomes to the organization's retry policy.
 */
import type { ServiceEnv } from '../env'
import type { LoadedDestination } from '../schemas/destination'

/** What a receiver needs to find the artifact again. */
export interface DeliveryReference {
  /** Storage: the exact object key written. */
  objectKey?: string
  /** E-mail: the provider's message id. Webhook: the receiver's response id header, if any. */
  messageId?: string
  /** Download: the expiring link and when it expires. */
  downloadUrl?: string
  expiresAt?: string
  /** HTTP status of the final response, where there was one. */
  httpStatus?: number
}

export type Outcome =
  | { kind: 'delivered'; reference: DeliveryReference }
  | {
      kind: 'retryable'
      /** Machine code such as `http_503`, `timeout`, `network_error`, `redirect`. */
      code: string
      message: string
      httpStatus?: number
      /** From a Retry-After header, in ms; the policy bounds it. */
      retryAfterMs?: number
    }
  | {
      kind: 'permanent'
      code: string
      message: string
      httpStatus?: number
      /** The destination is gone (webhook 410): disable it. */
      disableDestination?: boolean
    }

/** One attempt to deliver one delivery to one destination. */
export interface DeliveryJob {
  organizationId: string
  deliveryId: string
  destinationId: string
  /** Stable per (delivery, destination) across retries and resends: `webhook-id`, idempotency keys. */
  messageId: string
  sequence: number
  /** Accept time, ISO 8601 UTC; fills storage path templates. */
  acceptedAt: string
  /** 1 for the first attempt. */
  attempt: number
  payloadType: string
  correlationId: string | null
  tags: string[]
  /** The payload's own JSON text, unaltered. */
  data: string
  metadata: string | null
  /** The JSON envelope `{ id, type, timestamp, organizationId, sequence, data, metadata, correlationId, tags }`. */
  envelope: string
  requestId: string | null
}

export type DeliveryHandler<D extends LoadedDestination = LoadedDestination> = (
  job: DeliveryJob,
  destination: D,
  env: ServiceEnv,
) => Promise<Outcome>
