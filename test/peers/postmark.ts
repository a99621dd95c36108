/**
 * A Postmark stand-in: checks `X-Postmark-Server-Token` and the /email body shape, answers
 * like Postmark (`ErrorCode` 0 and a `MessageID` on success).
 *
 * - `POST /email`: 200, 401 (`ErrorCode` 10) for a wrong token, 422 (`ErrorCode` 300).
 * - `GET /server`: the harmless call the connection test makes.
 */
import { randomUUID } from 'node:crypto'
import {
  type HttpPeer,
  json,
  type PeerReply,
  type PeerRequest,
  startHttpPeer,
} from './http-peer.ts'

export const POSTMARK_SERVER_TOKEN = '00000000-test-peer-0000-postmark0000'

export interface PostmarkPeer extends HttpPeer {
  serverToken: string
}

function error(status: number, code: number, message: string): PeerReply {
  return {
    ...json(status, { ErrorCode: code, Message: message }),
    check: { ok: false, reason: `${code}: ${message}` },
  }
}

/** The first problem Postmark would report for this body, or null. */
export function emailProblem(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return 'body must be a JSON object'
  const input = body as Record<string, unknown>
  if (typeof input.From !== 'string' || !input.From.includes('@')) return 'From is required'
  if (typeof input.To !== 'string' || input.To.trim() === '') return 'To is required'
  if (input.To.split(',').length > 50) return 'at most 50 recipients'
  if (typeof input.Subject !== 'string' || /[\r\n]/.test(input.Subject))
    return 'Subject must be one line'
  if (typeof input.TextBody !== 'string' && typeof input.HtmlBody !== 'string')
    return 'Provide either email TextBody or HtmlBody or both'
  for (const header of (input.Headers as Array<Record<string, unknown>> | undefined) ?? []) {
    if (typeof header.Name !== 'string' || typeof header.Value !== 'string')
      return 'Headers entries need Name and Value'
    if (/[\r\n]/.test(header.Value)) return 'Header values must be one line'
  }
  for (const attachment of (input.Attachments as Array<Record<string, unknown>> | undefined) ??
    []) {
    if (
      typeof attachment.Name !== 'string' ||
      typeof attachment.Content !== 'string' ||
      typeof attachment.ContentType !== 'string'
    )
      return 'Attachments need Name, Content and ContentType'
  }
  return null
}

function handle(request: PeerRequest): PeerReply {
  if (request.headers['x-postmark-server-token'] !== POSTMARK_SERVER_TOKEN)
    return error(401, 10, 'Request does not contain a valid Server token.')
  if (request.headers.accept !== 'application/json')
    return error(406, 0, 'Accept must be application/json')
  if (request.method === 'GET' && request.path === '/server')
    return { ...json(200, { ID: 1, Name: 'test peer' }), check: { ok: true } }
  if (request.method !== 'POST' || request.path !== '/email')
    return error(404, 0, `No route ${request.method} ${request.path}`)
  let body: unknown
  try {
    body = JSON.parse(request.body.toString('utf8'))
  } catch {
    return error(422, 402, 'Received invalid JSON input.')
  }
  const problem = emailProblem(body)
  if (problem) return error(422, 300, `Invalid email request: ${problem}`)
  const to = (body as { To: string }).To
  return {
    ...json(200, {
      To: to,
      SubmittedAt: new Date().toISOString(),
      MessageID: randomUUID(),
      ErrorCode: 0,
      Message: 'OK',
    }),
    check: { ok: true },
  }
}

export async function startPostmarkPeer(): Promise<PostmarkPeer> {
  const peer = await startHttpPeer(handle)
  return { ...peer, serverToken: POSTMARK_SERVER_TOKEN }
}
