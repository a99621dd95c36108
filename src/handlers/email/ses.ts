/**
 * Amazon SES through the v2 API (`SendEmail`, simple content with headers and the
 * attachment), signed by aws4fetch. Without keys in the config the Worker's own AWS keys
 * are used. The connection test calls `GetAccount`, which sends nothing.
 */
import { AwsClient } from 'aws4fetch'
import type { ServiceEnv } from '../../env'
import type { EmailConfig } from '../../schemas/destination'
import type { Outcome } from '../types'
import type { OutgoingEmail } from './message'
import { callProvider, missingCredentials, providerBase } from './provider-http'

function client(config: EmailConfig, env: ServiceEnv): { aws: AwsClient; base: string } | Outcome {
  const region = config.config.region ?? 'us-east-1'
  const accessKeyId = config.config.accessKeyId ?? env.AWS_ACCESS_KEY_ID
  const secretAccessKey = config.config.secretAccessKey ?? env.AWS_SECRET_ACCESS_KEY
  if (!accessKeyId || !secretAccessKey) return missingCredentials('SES', 'AWS keys')
  const base = providerBase(
    config.config.endpoint,
    `https://email.${region}.amazonaws.com`,
    env,
    'SES',
  )
  if (typeof base !== 'string') return base
  // Service and region are explicit: an endpoint override does not name them.
  const aws = new AwsClient({ accessKeyId, secretAccessKey, service: 'ses', region, retries: 0 })
  return { aws, base }
}

/** The SendEmail request body. */
export function sesBody(email: OutgoingEmail, config: EmailConfig) {
  const charset = 'UTF-8'
  return {
    FromEmailAddress: email.from,
    Destination: { ToAddresses: email.to },
    Content: {
      Simple: {
        Subject: { Data: email.subject, Charset: charset },
        Body: {
          Text: { Data: email.text, Charset: charset },
          ...(email.html === null ? {} : { Html: { Data: email.html, Charset: charset } }),
        },
        Headers: Object.entries(email.headers).map(([Name, Value]) => ({ Name, Value })),
        Attachments: [
          {
            FileName: email.attachment.filename,
            RawContent: email.attachment.contentBase64,
            ContentType: email.attachment.contentType,
            ContentDisposition: 'ATTACHMENT',
            ContentTransferEncoding: 'BASE64',
          },
        ],
      },
    },
    ...(config.config.configurationSet
      ? { ConfigurationSetName: config.config.configurationSet }
      : {}),
  }
}

export async function sendWithSes(
  email: OutgoingEmail,
  config: EmailConfig,
  env: ServiceEnv,
): Promise<Outcome> {
  const ready = client(config, env)
  if ('kind' in ready) return ready
  const request = await ready.aws.sign(`${ready.base}/v2/email/outbound-emails`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sesBody(email, config)),
  })
  return callProvider(request, 'SES', async (response) => ({
    messageId: ((await response.json()) as { MessageId?: string }).MessageId,
  }))
}

/** Checks the credentials with GetAccount. */
export async function checkSes(config: EmailConfig, env: ServiceEnv): Promise<Outcome> {
  const ready = client(config, env)
  if ('kind' in ready) return ready
  const request = await ready.aws.sign(`${ready.base}/v2/email/account`, { method: 'GET' })
  return callProvider(request, 'SES', async (response) => {
    await response.body?.cancel()
    return {}
  })
}
