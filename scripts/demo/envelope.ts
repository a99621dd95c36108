/**
 * What every destination must hold for a delivery, byte for byte: the envelope the
 * service documents, `{ id, type, timestamp, organizationId, sequence, data, metadata,
 * correlationId, tags }`, where `data` and `metadata` are the exact JSON text the client
 * sent. Built here from the delivery's status and the payload, independently of the
 * service's own code, so that comparing with it checks the service.
 */
import Mustache from 'mustache'
import type { Delivery } from '../../src/client/index.ts'

export interface SentPayload {
  type: string
  data: unknown
  metadata?: Record<string, unknown> | undefined
}

export function expectedEnvelope(delivery: Delivery, payload: SentPayload): string {
  const fields: Array<[string, string]> = [
    ['id', JSON.stringify(delivery.deliveryId)],
    ['type', JSON.stringify(delivery.payloadType)],
    ['timestamp', JSON.stringify(delivery.acceptedAt)],
    ['organizationId', JSON.stringify(delivery.organizationId)],
    ['sequence', String(delivery.sequence)],
    // The client serialises the request with JSON.stringify, so this is the text that was sent.
    ['data', JSON.stringify(payload.data)],
    ['metadata', payload.metadata === undefined ? 'null' : JSON.stringify(payload.metadata)],
    ['correlationId', JSON.stringify(delivery.correlationId)],
    ['tags', JSON.stringify(delivery.tags)],
  ]
  return `{${fields.map(([name, value]) => `"${name}":${value}`).join(',')}}`
}

const asText = (value: unknown): string =>
  typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)

/**
 * The subject an e-mail destination's template renders to, by the documented rules:
 * names are looked up in `data`, then `metadata`, then `delivery`; objects render as JSON;
 * control characters and runs of white space become one space; at most 998 characters.
 */
export function expectedSubject(
  template: string,
  delivery: Delivery,
  payload: SentPayload,
): string {
  const object = (value: unknown) =>
    typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}
  const view = {
    delivery: {
      id: delivery.deliveryId,
      type: delivery.payloadType,
      organizationId: delivery.organizationId,
      sequence: delivery.sequence,
      acceptedAt: delivery.acceptedAt,
      correlationId: delivery.correlationId,
    },
    ...object(payload.metadata),
    ...object(payload.data),
  }
  return new Mustache.Writer()
    .render(template, view, {}, { escape: asText })
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 998)
}
