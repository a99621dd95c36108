/**
 * A SendGrid v3 stand-in: checks the Bearer key and the mail/send body shape as SendGrid
 * documents it, answers 202 with an `X-Message-Id` header like the real API.
 *
 * - `POST /v3/mail/send`: 202, 401 for a wrong key, 400 `{ errors: [{ message, field }] }`.
 * - `GET /v3/scopes`: the harmless call the connection test makes.
 */
import { randomUUID } from 'node:crypto'
import {
  type HttpPeer,
  json,
  type PeerReply,
  type PeerRequest,
  startHttpPeer,
} from './http-peer.ts'

export const SENDGRID_API_KEY = 'SG.test-peer.0123456789abcdefghijklmnopqrstuvwxyz'

export interface SendGridPeer extends HttpPeer {
  apiKey: string
}

/** Headers SendGrid refuses in `headers` because it sets them itself. */
const RESERVED_HEADERS = [
  'x-sg-id',
  'x-sg-eid',
  'received',
  'dkim-signature',
  'content-type',
  'content-transfer-encoding',
  'to',
  'from',
  'subject',
  'reply-to',
  'cc',
  'bcc',
]

function error(status: number, message: string, field: string | null = null): PeerReply {
  return {
    ...json(status, { errors: [{ message, field, help: null }] }),
    check: { ok: false, reason: field ? `${field}: ${message}` : message },
  }
}

const isAddress = (value: unknown) =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { email?: unknown }).email === 'string' &&
  (value as { email: string }).email.includes('@')

/** The first problem SendGrid would report for this body, as [field, message], or null. */
export function mailSendProblem(body: unknown): [string, string] | null {
  if (typeof body !== 'object' || body === null) return ['', 'body must be a JSON object']
  const input = body as Record<string, unknown>
  const personalizations = input.personalizations
  if (!Array.isArray(personalizations) || personalizations.length === 0)
    return ['personalizations', 'The personalizations field is required']
  for (const [index, entry] of personalizations.entries()) {
    const to = (entry as { to?: unknown }).to
    if (!Array.isArray(to) || to.length === 0 || !to.every(isAddress))
      return [`personalizations.${index}.to`, 'The to array is required and must hold addresses']
  }
  if (!isAddress(input.from)) return ['from.email', 'The from email is required']
  if (typeof input.subject !== 'string' || input.subject === '' || /[\r\n]/.test(input.subject))
    return ['subject', 'The subject is required and must be one line']
  const content = input.content
  if (!Array.isArray(content) || content.length === 0)
    return ['content', 'Unless a valid template_id is provided, the content parameter is required']
  if (
    content.some((part, index) => (part as { type?: unknown }).type === 'text/plain' && index !== 0)
  )
    return ['content', 'text/plain must come first when present']
  for (const attachment of (input.attachments as Array<Record<string, unknown>> | undefined) ??
    []) {
    if (typeof attachment.content !== 'string' || typeof attachment.filename !== 'string')
      return ['attachments', 'Each attachment needs content (base64) and filename']
  }
  for (const [name, value] of Object.entries((input.headers as Record<string, unknown>) ?? {})) {
    if (RESERVED_HEADERS.includes(name.toLowerCase()))
      return [`headers.${name}`, 'This header is reserved']
    if (typeof value !== 'string' || /[\r\n]/.test(value))
      return [`headers.${name}`, 'Header values must be single-line strings']
  }
  return null
}

function handle(request: PeerRequest): PeerReply {
  if (request.headers.authorization !== `Bearer ${SENDGRID_API_KEY}`)
    return error(401, 'The provided authorization grant is invalid, expired, or revoked')
  if (request.method === 'GET' && request.path === '/v3/scopes')
    return { ...json(200, { scopes: ['mail.send'] }), check: { ok: true } }
  if (request.method !== 'POST' || request.path !== '/v3/mail/send')
    return error(404, `No route ${request.method} ${request.path}`)
  let body: unknown
  try {
    body = JSON.parse(request.body.toString('utf8'))
  } catch {
    return error(400, 'Bad Request')
  }
  const problem = mailSendProblem(body)
  if (problem) return error(400, problem[1], problem[0] || null)
  return {
    status: 202,
    headers: { 'x-message-id': randomUUID().replaceAll('-', '').slice(0, 22) },
    check: { ok: true },
  }
}

export async function startSendGridPeer(): Promise<SendGridPeer> {
  const peer = await startHttpPeer(handle)
  return { ...peer, apiKey: SENDGRID_API_KEY }
}
