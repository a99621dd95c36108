/**
 * For receivers: checks a webhook from the delivery service (Standard Webhooks:
 * `webhook-id`, `webhook-timestamp`, `webhook-signature`, HMAC-SHA256 with the `whsec_`
 * secret) with the `standardwebhooks` package, and returns the parsed envelope. During a
 * secret rotation the service signs with both secrets; pass both and either verifies.
 */
import { Webhook, WebhookVerificationError } from 'standardwebhooks'

export { WebhookVerificationError }

/** What every destination receives: the delivery's envelope around the payload. */
export interface WebhookEnvelope<TData = unknown> {
  /** The delivery id. */
  id: string
  type: string
  /** When the service accepted the delivery (ISO 8601, UTC). */
  timestamp: string
  organizationId: string
  sequence: number
  data: TData
  metadata: Record<string, unknown> | null
  correlationId: string | null
  tags: string[]
}

export interface VerifyWebhookInput {
  /** The raw request body, exactly as received. */
  body: string | Uint8Array
  headers: Headers | Record<string, string | string[] | undefined>
  /** The destination's secret, or its current and previous secrets during a rotation. */
  secrets: string | readonly string[]
  /**
   * When the request arrived, for checking a recorded request later; the timestamp must
   * lie within 5 minutes of it. Default: now.
   */
  receivedAt?: Date | string
}

/** Standard Webhooks' tolerance between the signed timestamp and the receiver's clock. */
const TOLERANCE_SECONDS = 5 * 60

function plainHeaders(headers: VerifyWebhookInput['headers']): Record<string, string> {
  const out: Record<string, string> = {}
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      out[name.toLowerCase()] = value
    })
    return out
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined)
      out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

function sameText(a: string, b: string): boolean {
  // Compares every character whatever the first difference, like the package does.
  let difference = a.length ^ b.length
  for (let index = 0; index < Math.max(a.length, b.length); index += 1)
    difference |= (a.charCodeAt(index) || 0) ^ (b.charCodeAt(index) || 0)
  return difference === 0
}

/** Verifies as of a past arrival time: the package only checks against the current clock. */
function verifyAt(
  webhook: Webhook,
  body: string | Uint8Array,
  headers: Record<string, string>,
  at: Date,
) {
  const id = headers['webhook-id']
  const timestamp = Number(headers['webhook-timestamp'])
  const signatures = headers['webhook-signature']
  if (!id || !signatures || !Number.isInteger(timestamp))
    throw new WebhookVerificationError('Missing required headers')
  if (Math.abs(at.getTime() / 1000 - timestamp) > TOLERANCE_SECONDS)
    throw new WebhookVerificationError('Message timestamp outside the tolerance of its arrival')
  const expected = webhook.sign(id, new Date(timestamp * 1000), body)
  if (!signatures.split(' ').some((signature) => sameText(signature, expected)))
    throw new WebhookVerificationError('No matching signature found')
}

/**
 * Returns the verified envelope; throws `WebhookVerificationError` when no secret's
 * signature matches, a header is missing, or the timestamp is outside the tolerance.
 */
export function verifyWebhookSignature<TData = unknown>(
  input: VerifyWebhookInput,
): WebhookEnvelope<TData> {
  const secrets = typeof input.secrets === 'string' ? [input.secrets] : input.secrets
  if (secrets.length === 0) throw new WebhookVerificationError('No secret to verify with')
  const headers = plainHeaders(input.headers)
  let last: unknown
  for (const secret of secrets) {
    const webhook = new Webhook(secret)
    try {
      if (input.receivedAt === undefined) webhook.verify(input.body, headers, { jsonParse: false })
      else verifyAt(webhook, input.body, headers, new Date(input.receivedAt))
      const text =
        typeof input.body === 'string' ? input.body : new TextDecoder().decode(input.body)
      return JSON.parse(text) as WebhookEnvelope<TData>
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error
      last = error
    }
  }
  throw last
}
