/**
 * SMTP over Workers TCP sockets: implicit TLS (default, port 465), STARTTLS (587) or,
 * only under the development flag, plain TCP. The message is built by worker-mailer's
 * MIME builder and sent by `smtp-client.ts`. The Message-ID is derived from the stable
 * message id, so receivers can deduplicate. SMTP's own codes decide the outcome: 4xx
 * replies, refused or dropped connections and timeouts are retryable; 5xx replies (a
 * refused login, an unknown recipient) are permanent.
 */
import { Email } from 'worker-mailer'
import { allowsLoopback, type ServiceEnv } from '../../env'
import type { EmailConfig } from '../../schemas/destination'
import { checkDestinationHost } from '../../security/url-guard'
import type { Outcome } from '../types'
import type { OutgoingEmail } from './message'
import { SmtpError, SmtpSession, type SmtpSettings } from './smtp-client'

/** How long the server may take to accept the connection or answer any one step. */
const SMTP_TIMEOUT_MS = 15_000

function settingsFor(config: EmailConfig, env: ServiceEnv): SmtpSettings | Outcome {
  const { host, port, secure, username, password } = config.config
  if (!host)
    return { kind: 'permanent', code: 'missing_configuration', message: 'SMTP host is not set' }
  const guard = checkDestinationHost(host, { allowLoopback: allowsLoopback(env) })
  if (!guard.ok)
    return { kind: 'permanent', code: 'destination_refused', message: `SMTP host ${guard.reason}` }
  const security = secure ?? (port === undefined || port === 465 ? 'tls' : 'starttls')
  if (security === 'none' && !allowsLoopback(env)) {
    return {
      kind: 'permanent',
      code: 'destination_refused',
      message: 'SMTP without TLS is allowed only under the development flag',
    }
  }
  return {
    host,
    port: port ?? (security === 'tls' ? 465 : 587),
    security,
    ...(username ? { username, password: password ?? '' } : {}),
    timeoutMs: SMTP_TIMEOUT_MS,
  }
}

/** The outcome of a failed session. */
export function classifySmtpError(error: unknown): Outcome {
  if (!(error instanceof SmtpError)) {
    return {
      kind: 'retryable',
      code: 'network_error',
      message: `SMTP: ${(error as Error).message}`,
    }
  }
  const message = `SMTP server: ${error.message}`
  if (error.kind === 'reply' && error.code !== null && error.code >= 500)
    return { kind: 'permanent', code: `smtp_${error.code}`, message }
  if (error.kind === 'reply' && error.code !== null)
    return { kind: 'retryable', code: `smtp_${error.code}`, message }
  if (error.kind === 'unsupported') return { kind: 'permanent', code: 'smtp_unsupported', message }
  if (error.kind === 'timeout') return { kind: 'retryable', code: 'timeout', message }
  return { kind: 'retryable', code: 'network_error', message }
}

function messageIdHeader(email: OutgoingEmail): string {
  const domain = email.from.split('@').pop() ?? 'audit-delivery.invalid'
  return `<${email.messageId}@${domain}>`
}

/** The DATA content: headers, text and HTML alternatives, the attachment; dot-stuffed. */
export function mimeMessage(email: OutgoingEmail): string {
  return new Email({
    from: email.from,
    to: email.to,
    subject: email.subject,
    text: email.text,
    ...(email.html === null ? {} : { html: email.html }),
    headers: { ...email.headers, 'Message-ID': messageIdHeader(email) },
    attachments: [
      {
        filename: email.attachment.filename,
        content: email.attachment.contentBase64,
        mimeType: email.attachment.contentType,
      },
    ],
  }).getEmailData()
}

export async function sendWithSmtp(
  email: OutgoingEmail,
  config: EmailConfig,
  env: ServiceEnv,
): Promise<Outcome> {
  const settings = settingsFor(config, env)
  if ('kind' in settings) return settings
  let session: SmtpSession | undefined
  try {
    session = await SmtpSession.open(settings)
    await session.send(email.from, email.to, mimeMessage(email))
  } catch (error) {
    session?.abort()
    return classifySmtpError(error)
  }
  await session.quit()
  return { kind: 'delivered', reference: { messageId: messageIdHeader(email) } }
}

/** Connects, greets, authenticates and quits: proves host, TLS and credentials. */
export async function checkSmtp(config: EmailConfig, env: ServiceEnv): Promise<Outcome> {
  const settings = settingsFor(config, env)
  if ('kind' in settings) return settings
  try {
    const session = await SmtpSession.open(settings)
    await session.quit()
    return { kind: 'delivered', reference: {} }
  } catch (error) {
    return classifySmtpError(error)
  }
}
