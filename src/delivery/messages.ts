/**
 * Queue messages. One `attempt` message per (delivery, destination) release, carrying the
 * payload sealed at rest, or a reference to it in R2 when it would not fit (a message is
 * at most 128 KB: Queues limits). `probe` messages come from the readiness check.
 */
export interface AttemptMessage {
  kind: 'attempt'
  organizationId: string
  deliveryId: string
  destinationId: string
  /** The destination's `updatedAt` at release, so the consumer never uses a config cached from before a change. */
  destinationVersion: string
  /** Identifies this release; results for an older release cannot move the state back. */
  lease: string
  /** 1 for the first attempt. */
  attempt: number
  sequence: number
  acceptedAt: string
  payloadType: string
  correlationId: string | null
  tags: string[]
  requestId: string | null
  /** Sealed `{ data, metadata }` texts (see `delivery/payload.ts`), or null when in R2. */
  payload: string | null
  /** R2 key of the sealed payload when it is too large for the message. */
  payloadRef: string | null
}

export interface ProbeMessage {
  kind: 'probe'
}

export type QueueMessage = AttemptMessage | ProbeMessage

/**
 * Sealed payload length (ASCII) above which it goes to R2 instead of the message. The rest
 * of a message is under 2 KB, so a message stays well below the 128 KB limit.
 */
export const INLINE_SEALED_LIMIT_CHARS = 96 * 1024

/** Queues accept at most 100 messages and 256 KB per sendBatch call. */
export const SEND_BATCH_MAX_MESSAGES = 100
export const SEND_BATCH_MAX_BYTES = 250_000
