/**
 * Postmark through its /email API (`X-Postmark-Server-Token`). Postmark has no
 * idempotency key; the stable message id travels in a header and in `Metadata`. The
 * connection test reads the server's settings, which sends nothing.
 */
import type { ServiceEnv } from '../../env'
import type { EmailConfig } from '../../schemas/destination'
import type { Outcome } from '../types'
import type { OutgoingEmail } from './message'
import { callProvider, missingCredentials, providerBase } from './provider-http'

const BASE = 'https://api.postmarkapp.com'

export function postmarkBody(email: OutgoingEmail) {
  return {
    From: email.from,
    To: email.to.join(', '),
    Subject: email.subject,
    TextBody: email.text,
    ...(email.html === null ? {} : { HtmlBody: email.html }),
    Headers: Object.entries(email.headers).map(([Name, Value]) => ({ Name, Value })),
    Attachments: [
      {
        Name: email.attachment.filename,
        Content: email.attachment.contentBase64,
        ContentType: email.attachment.contentType,
      },
    ],
    Metadata: { messageId: email.messageId },
    MessageStream: 'outbound',
  }
}

function headers(token: string): Record<string, string> {
  return {
    'x-postmark-server-token': token,
    accept: 'application/json',
    'content-type': 'application/json',
  }
}

function prepare(config: EmailConfig, env: ServiceEnv): { base: string; key: string } | Outcome {
  if (!config.apiKey) return missingCredentials('Postmark', 'server token')
  const base = providerBase(config.config.endpoint, BASE, env, 'Postmark')
  return typeof base === 'string' ? { base, key: config.apiKey } : base
}

export async function sendWithPostmark(
  email: OutgoingEmail,
  config: EmailConfig,
  env: ServiceEnv,
): Promise<Outcome> {
  const ready = prepare(config, env)
  if ('kind' in ready) return ready
  const request = new Request(`${ready.base}/email`, {
    method: 'POST',
    headers: headers(ready.key),
    body: JSON.stringify(postmarkBody(email)),
  })
  return callProvider(request, 'Postmark', async (response) => ({
    messageId: ((await response.json()) as { MessageID?: string }).MessageID,
  }))
}

export async function checkPostmark(config: EmailConfig, env: ServiceEnv): Promise<Outcome> {
  const ready = prepare(config, env)
  if ('kind' in ready) return ready
  const request = new Request(`${ready.base}/server`, { headers: headers(ready.key) })
  return callProvider(request, 'Postmark', async (response) => {
    await response.body?.cancel()
    return {}
  })
}
