/**
 * The JSON envelope every destination receives:
 * `{ id, type, timestamp, organizationId, sequence, data, metadata, correlationId, tags }`.
 * Built by concatenation so `data` and `metadata` are the payload's own text, byte for byte.
 */
export interface EnvelopeFields {
  deliveryId: string
  payloadType: string
  acceptedAt: string
  organizationId: string
  sequence: number
  data: string
  metadata: string | null
  correlationId: string | null
  tags: readonly string[]
}

export function buildEnvelope(fields: EnvelopeFields): string {
  return (
    `{"id":${JSON.stringify(fields.deliveryId)},"type":${JSON.stringify(fields.payloadType)}` +
    `,"timestamp":${JSON.stringify(fields.acceptedAt)},"organizationId":${JSON.stringify(fields.organizationId)}` +
    `,"sequence":${fields.sequence},"data":${fields.data},"metadata":${fields.metadata ?? 'null'}` +
    `,"correlationId":${JSON.stringify(fields.correlationId)},"tags":${JSON.stringify(fields.tags)}}`
  )
}

/** The id receivers deduplicate on: stable per delivery and destination across every retry. */
export function messageIdFor(deliveryId: string, destinationId: string): string {
  return `msg_${deliveryId.slice(4)}_${destinationId.slice(4)}`
}
