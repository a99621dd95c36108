/**
 * Prepares deliveries at the edge before the organization's object records them: takes
 * the payload's own text out of the request, bounds its size, seals it at rest, and moves
 * it to R2 when it would not fit in a queue message. Sealing here spreads the crypto work
 * across Worker isolates instead of the one object per tenant.
 */
import { INLINE_SEALED_LIMIT_CHARS } from '../delivery/messages'
import { sealPayload } from '../delivery/payload'
import type { AcceptItem } from '../durable-objects/organization/deliveries'
import type { ServiceEnv } from '../env'
import { sha256Hex } from '../lib/crypto'
import { utf8 } from '../lib/encoding'
import { ApiError } from '../lib/errors'
import { randomToken } from '../lib/ids'
import { findSpans, pathKey } from '../lib/json-spans'
import { r2Keys } from '../lib/r2-keys'
import type { DeliverInput } from '../schemas/delivery'

/** Payloads (data and metadata together) may be up to 10 MiB. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024

/** One delivery: its validated input and its own JSON text, exactly as received. */
export interface RawDelivery {
  input: DeliverInput
  text: string
}

function payloadTexts(text: string): { data: string | null; metadata: string | null } {
  const spans = findSpans(
    text,
    (path) =>
      path.length === 2 && path[0] === 'payload' && (path[1] === 'data' || path[1] === 'metadata'),
  )
  const at = (key: string) => {
    const span = spans.get(pathKey(['payload', key]))
    return span ? text.slice(span.start, span.end) : null
  }
  return { data: at('data'), metadata: at('metadata') }
}

/** The text of each item of a batch body's `deliveries` array, by index. */
export function batchItemTexts(body: string): Map<number, string> {
  const spans = findSpans(
    body,
    (path) => path.length === 2 && path[0] === 'deliveries' && typeof path[1] === 'number',
  )
  const texts = new Map<number, string>()
  for (const [key, span] of spans)
    texts.set((JSON.parse(key) as [string, number])[1], body.slice(span.start, span.end))
  return texts
}

/**
 * Builds what the organization's object stores for one delivery. `authorizeUpload` runs
 * before a large payload is written to R2 and throws when the caller may not write: the
 * object checks the key only when it accepts, after this.
 */
export async function prepareDelivery(
  env: ServiceEnv,
  organizationId: string,
  raw: RawDelivery,
  index: number,
  idempotencyKey: string | null,
  authorizeUpload: () => Promise<void>,
): Promise<AcceptItem> {
  const { data, metadata } = payloadTexts(raw.text)
  if (data === null) throw new Error('payload.data span missing after validation')
  const payloadBytes =
    utf8.encode(data).byteLength + (metadata === null ? 0 : utf8.encode(metadata).byteLength)
  if (payloadBytes > MAX_PAYLOAD_BYTES) {
    throw new ApiError(
      'payload_too_large',
      `payload is ${payloadBytes} bytes; the limit is ${MAX_PAYLOAD_BYTES}`,
      {
        details: { limitBytes: MAX_PAYLOAD_BYTES, payloadBytes },
      },
    )
  }
  const sealed = await sealPayload(env.ENCRYPTION_KEYS, { data, metadata })
  let sealedPayload: string | null = sealed
  let payloadRef: string | null = null
  // Decided on the sealed text, which is what travels: escapes and base64 can triple it.
  if (sealed.length > INLINE_SEALED_LIMIT_CHARS) {
    await authorizeUpload()
    payloadRef = r2Keys.payload(organizationId, `pl_${randomToken(20)}`)
    await env.ARTIFACTS.put(payloadRef, sealed)
    sealedPayload = null
  }
  const { input } = raw
  return {
    index,
    destinations: input.destinations,
    payloadType: input.payload.type,
    priority: input.options.priority,
    idempotencyKey,
    correlationId: input.options.correlationId ?? null,
    tags: input.options.tags,
    sealedPayload,
    payloadRef,
    payloadBytes,
    requestHash: await sha256Hex(raw.text),
  }
}

/**
 * Deletes payloads written to R2 for deliveries the object did not accept (a duplicate,
 * a rejection), so large refused requests leave nothing behind.
 */
export function discardUnusedPayloads(
  env: ServiceEnv,
  items: readonly AcceptItem[],
  results: readonly { index: number; kind: string }[],
): Promise<void> {
  const accepted = new Set(results.filter((r) => r.kind === 'accepted').map((r) => r.index))
  const unused = items.filter((item) => item.payloadRef !== null && !accepted.has(item.index))
  return unused.length === 0
    ? Promise.resolve()
    : env.ARTIFACTS.delete(unused.map((item) => item.payloadRef as string))
}
