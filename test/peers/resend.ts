/**
 * A Resend stand-in: checks the Bearer key and the /emails body shape, and deduplicates on
 * `Idempotency-Key` as Resend does: the same key with the same body answers the same id
 * without sending again; the same key with another body answers 409.
 *
 * - `POST /emails`: 200 `{ id }`, 401/403 for a missing or wrong key, 422 for a bad body.
 * - `GET /domains`: the harmless call the connection test makes.
 */
import { createHash, randomUUID } from 'node:crypto'
import {
  type HttpPeer,
  json,
  type PeerReply,
  type PeerRequest,
  startHttpPeer,
} from './http-peer.ts'

export const RESEND_API_KEY = 're_testpeer_0123456789abcdefghijklmnop'

export interface ResendPeer extends HttpPeer {
  apiKey: string
}

function error(status: number, name: string, message: string): PeerReply {
  return {
    ...json(status, { statusCode: status, name, message }),
    check: { ok: false, reason: `${name}: ${message}` },
  }
}

/** The first problem Resend would report for this body, or null. */
export function emailProblem(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return 'body must be a JSON object'
  const input = body as Record<string, unknown>
  if (typeof input.from !== 'string' || !input.from.includes('@')) return 'from is required'
  const to = typeof input.to === 'string' ? [input.to] : input.to
  if (!Array.isArray(to) || to.length === 0 || to.length > 50)
    return 'to must hold 1 to 50 addresses'
  if (typeof input.subject !== 'string' || /[\r\n]/.test(input.subject))
    return 'subject is required and must be one line'
  if (typeof input.text !== 'string' && typeof input.html !== 'string')
    return 'text or html is required'
  for (const attachment of (input.attachments as Array<Record<string, unknown>> | undefined) ??
    []) {
    if (typeof attachment.filename !== 'string' || typeof attachment.content !== 'string')
      return 'attachments need filename and content (base64)'
  }
  for (const value of Object.values((input.headers as Record<string, unknown>) ?? {})) {
    if (typeof value !== 'string' || /[\r\n]/.test(value)) return 'header values must be one line'
  }
  return null
}

export async function startResendPeer(): Promise<ResendPeer> {
  const sent = new Map<string, { bodyHash: string; id: string }>()

  const handle = (request: PeerRequest): PeerReply => {
    const authorization = request.headers.authorization
    if (!authorization)
      return error(401, 'missing_api_key', 'Missing API key in the authorization header')
    if (authorization !== `Bearer ${RESEND_API_KEY}`)
      return error(403, 'invalid_api_key', 'API key is invalid')
    if (request.method === 'GET' && request.path === '/domains')
      return { ...json(200, { object: 'list', data: [] }), check: { ok: true } }
    if (request.method !== 'POST' || request.path !== '/emails')
      return error(404, 'not_found', `No route ${request.method} ${request.path}`)

    let body: unknown
    try {
      body = JSON.parse(request.body.toString('utf8'))
    } catch {
      return error(400, 'invalid_parameter', 'Body is not JSON')
    }
    const problem = emailProblem(body)
    if (problem) return error(422, 'validation_error', problem)

    const key = request.headers['idempotency-key']
    if (key !== undefined && (key.length === 0 || key.length > 256))
      return error(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1 to 256 characters')
    const bodyHash = createHash('sha256').update(request.body).digest('hex')
    const previous = key === undefined ? undefined : sent.get(key)
    if (previous && previous.bodyHash !== bodyHash)
      return error(
        409,
        'invalid_idempotent_request',
        'Same idempotency key used with a different request payload',
      )
    if (previous)
      return { ...json(200, { id: previous.id }), check: { ok: true, reason: 'replayed' } }
    const id = randomUUID()
    if (key !== undefined) sent.set(key, { bodyHash, id })
    return { ...json(200, { id }), check: { ok: true, reason: 'sent' } }
  }

  const peer = await startHttpPeer(handle)
  return { ...peer, apiKey: RESEND_API_KEY }
}
