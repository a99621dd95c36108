/**
 * Webhook delivery: the envelope exactly as built, signed with Standard Webhooks headers.
 * One attempt per call; redirects are never followed (a 3xx is a retryable failure), and
 * the configured timeout aborts a receiver that does not answer.
 */
import { allowsLoopback } from '../env'
import type { LoadedDestination } from '../schemas/destination'
import { checkDestinationUrl } from '../security/url-guard'
import { classifyResponse, discardBody, fetchWithTimeout, responseExcerpt } from './http-outcome'
import type { DeliveryHandler } from './types'
import { signatureHeader, signingSecrets } from './webhook-signature'

export type WebhookDestination = Extract<LoadedDestination, { type: 'webhook' }>

export const USER_AGENT = 'audit-delivery-webhooks/1.0'

/** Headers the service sets itself; a destination's own headers cannot replace them. */
function isProtectedHeader(name: string): boolean {
  const lower = name.toLowerCase()
  return (
    lower.startsWith('webhook-') ||
    lower === 'content-type' ||
    lower === 'content-length' ||
    lower === 'host' ||
    lower === 'user-agent'
  )
}

export const deliverWebhook: DeliveryHandler<WebhookDestination> = async (
  job,
  destination,
  env,
) => {
  const { config } = destination
  const guard = checkDestinationUrl(config.url, { allowLoopback: allowsLoopback(env) })
  if (!guard.ok) {
    return {
      kind: 'permanent',
      code: 'destination_refused',
      message: `Webhook URL ${guard.reason}`,
    }
  }

  const timestamp = Math.floor(Date.now() / 1000)
  const secrets = signingSecrets(config.secret, config.previousSecrets)
  const headers = new Headers()
  for (const [name, value] of Object.entries(config.headers)) {
    if (!isProtectedHeader(name)) headers.set(name, value)
  }
  headers.set('content-type', 'application/json')
  headers.set('user-agent', USER_AGENT)
  headers.set('webhook-id', job.messageId)
  headers.set('webhook-timestamp', String(timestamp))
  headers.set(
    'webhook-signature',
    await signatureHeader(secrets, job.messageId, timestamp, job.envelope),
  )

  const sent = await fetchWithTimeout(
    config.url,
    { method: config.method, headers, body: job.envelope },
    config.timeout,
    'Receiver',
  )
  if ('outcome' in sent) return sent.outcome
  const { response } = sent
  const detail = response.ok ? undefined : await responseExcerpt(response)
  if (response.ok) await discardBody(response)
  return classifyResponse(response, { peer: 'Receiver', goneDisables: true, detail })
}
