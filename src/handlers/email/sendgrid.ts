/**
 * SendGrid through its v3 mail/send API (202 on acceptance, the id in `X-Message-Id`).
 * SendGrid has no idempotency key; the stable message id travels in a header and in
 * `custom_args`, so duplicates can be recognised downstream. The connection test reads
 * the key's scopes, which sends nothing.
 */
import type { ServiceEnv } from '../../env'
import type { EmailConfig } from '../../schemas/destination'
import type { Outcome } from '../types'
import type { OutgoingEmail } from './message'
import { callProvider, missingCredentials, providerBase } from './provider-http'

const BASE = 'https://api.sendgrid.com'

export function sendGridBody(email: OutgoingEmail) {
  return {
    personalizations: [{ to: email.to.map((address) => ({ email: address })) }],
    from: { email: email.from },
    subject: email.subject,
    // SendGrid wants text/plain first when both parts are present.
    content: [
      { type: 'text/plain', value: email.text },
      ...(email.html === null ? [] : [{ type: 'text/html', value: email.html }]),
    ],
    attachments: [
      {
        content: email.attachment.contentBase64,
        filename: email.attachment.filename,
        type: email.attachment.contentType,
        disposition: 'attachment',
      },
    ],
    headers: email.headers,
    custom_args: { messageId: email.messageId },
  }
}

function prepare(config: EmailConfig, env: ServiceEnv): { base: string; key: string } | Outcome {
  if (!config.apiKey) return missingCredentials('SendGrid', 'API key')
  const base = providerBase(config.config.endpoint, BASE, env, 'SendGrid')
  return typeof base === 'string' ? { base, key: config.apiKey } : base
}

export async function sendWithSendGrid(
  email: OutgoingEmail,
  config: EmailConfig,
  env: ServiceEnv,
): Promise<Outcome> {
  const ready = prepare(config, env)
  if ('kind' in ready) return ready
  const request = new Request(`${ready.base}/v3/mail/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ready.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(sendGridBody(email)),
  })
  return callProvider(request, 'SendGrid', async (response) => {
    await response.body?.cancel()
    return { messageId: response.headers.get('x-message-id') ?? undefined }
  })
}

export async function checkSendGrid(config: EmailConfig, env: ServiceEnv): Promise<Outcome> {
  const ready = prepare(config, env)
  if ('kind' in ready) return ready
  const request = new Request(`${ready.base}/v3/scopes`, {
    headers: { authorization: `Bearer ${ready.key}` },
  })
  return callProvider(request, 'SendGrid', async (response) => {
    await response.body?.cancel()
    return {}
  })
}
