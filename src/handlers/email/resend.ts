/**
 * Resend through its /emails API, with `Idempotency-Key` set to the stable message id so
 * that Resend itself sends a retried message only once (it answers the original id).
 * The connection test lists domains; a key restricted to sending answers 401
 * `restricted_api_key`, which still proves the key is valid.
 */
import type { ServiceEnv } from '../../env'
import type { EmailConfig } from '../../schemas/destination'
import { fetchWithTimeout, responseExcerpt } from '../http-outcome'
import type { Outcome } from '../types'
import type { OutgoingEmail } from './message'
import {
  callProvider,
  missingCredentials,
  PROVIDER_TIMEOUT_MS,
  providerBase,
} from './provider-http'

const BASE = 'https://api.resend.com'

export function resendBody(email: OutgoingEmail) {
  return {
    from: email.from,
    to: email.to,
    subject: email.subject,
    text: email.text,
    ...(email.html === null ? {} : { html: email.html }),
    attachments: [
      {
        filename: email.attachment.filename,
        content: email.attachment.contentBase64,
        content_type: email.attachment.contentType,
      },
    ],
    headers: email.headers,
  }
}

function prepare(config: EmailConfig, env: ServiceEnv): { base: string; key: string } | Outcome {
  if (!config.apiKey) return missingCredentials('Resend', 'API key')
  const base = providerBase(config.config.endpoint, BASE, env, 'Resend')
  return typeof base === 'string' ? { base, key: config.apiKey } : base
}

export async function sendWithResend(
  email: OutgoingEmail,
  config: EmailConfig,
  env: ServiceEnv,
): Promise<Outcome> {
  const ready = prepare(config, env)
  if ('kind' in ready) return ready
  const request = new Request(`${ready.base}/emails`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ready.key}`,
      'content-type': 'application/json',
      'idempotency-key': email.messageId,
    },
    body: JSON.stringify(resendBody(email)),
  })
  const outcome = await callProvider(request, 'Resend', async (response) => ({
    messageId: ((await response.json()) as { id?: string }).id,
  }))
  // Two attempts racing on one key: the other one is in flight, so try again shortly.
  if (
    outcome.kind === 'permanent' &&
    outcome.httpStatus === 409 &&
    outcome.message.includes('concurrent_idempotent_requests')
  ) {
    return { kind: 'retryable', code: 'http_409', message: outcome.message, httpStatus: 409 }
  }
  return outcome
}

export async function checkResend(config: EmailConfig, env: ServiceEnv): Promise<Outcome> {
  const ready = prepare(config, env)
  if ('kind' in ready) return ready
  const sent = await fetchWithTimeout(
    `${ready.base}/domains`,
    { headers: { authorization: `Bearer ${ready.key}` } },
    PROVIDER_TIMEOUT_MS,
    'Resend',
  )
  if ('outcome' in sent) return sent.outcome
  const { response } = sent
  const text = await responseExcerpt(response)
  if (response.ok || (response.status === 401 && text.includes('restricted_api_key'))) {
    return { kind: 'delivered', reference: { httpStatus: response.status } }
  }
  return {
    kind: 'permanent',
    code: `http_${response.status}`,
    message: `Resend answered ${response.status}: ${text}`,
    httpStatus: response.status,
  }
}
