/**
 * An Amazon SES v2 stand-in. Like AWS it recomputes each request's SigV4 signature from
 * the canonical request with the known test secret (`sigv4.ts`, independent of
 * aws4fetch), then checks the SendEmail body as the API reference describes it.
 *
 * - `POST /v2/email/outbound-emails`: 200 `{ MessageId }`, 403 on a bad signature, 400
 *   `BadRequestException` on a body SES would refuse.
 * - `GET /v2/email/account`: the harmless call the connection test makes.
 */
import { randomUUID } from 'node:crypto'
import {
  type HttpPeer,
  json,
  type PeerReply,
  type PeerRequest,
  startHttpPeer,
} from './http-peer.ts'
import { verifySigV4 } from './sigv4.ts'

export const SES_ACCESS_KEY_ID = 'AKIDSESTESTPEER00001'
export const SES_SECRET_ACCESS_KEY = 'ses/test/secret/access/key/0123456789abc'

export interface SesPeer extends HttpPeer {
  accessKeyId: string
  secretAccessKey: string
}

function awsError(status: number, type: string, message: string): PeerReply {
  return {
    ...json(status, { message }, { 'x-amzn-errortype': type }),
    check: { ok: false, reason: `${type}: ${message}` },
  }
}

const isString = (value: unknown): value is string => typeof value === 'string'
const hasCrLf = (value: string) => /[\r\n]/.test(value)

/** The first reason SES would refuse this SendEmail body, or null. */
export function sendEmailProblem(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return 'body must be a JSON object'
  const input = body as Record<string, unknown>
  if (!isString(input.FromEmailAddress) || !input.FromEmailAddress.includes('@'))
    return 'FromEmailAddress must be an address'
  const destination = input.Destination as Record<string, unknown> | undefined
  const to = destination?.ToAddresses
  if (!Array.isArray(to) || to.length === 0 || !to.every(isString))
    return 'Destination.ToAddresses must list addresses'
  const all = ['ToAddresses', 'CcAddresses', 'BccAddresses'].flatMap(
    (key) => (destination?.[key] as unknown[] | undefined) ?? [],
  )
  if (all.length > 50) return 'at most 50 recipients'
  const content = input.Content as Record<string, unknown> | undefined
  const simple = content?.Simple as Record<string, unknown> | undefined
  if (!simple) return 'Content.Simple is required by this stand-in'
  const subject = (simple.Subject as { Data?: unknown } | undefined)?.Data
  if (!isString(subject) || hasCrLf(subject)) return 'Content.Simple.Subject.Data is invalid'
  const bodyPart = simple.Body as Record<string, { Data?: unknown }> | undefined
  if (!isString(bodyPart?.Text?.Data) && !isString(bodyPart?.Html?.Data))
    return 'Content.Simple.Body needs Text or Html'
  for (const header of (simple.Headers as Array<Record<string, unknown>> | undefined) ?? []) {
    if (!isString(header.Name) || !isString(header.Value) || hasCrLf(header.Value))
      return 'Content.Simple.Headers entries need Name and a single-line Value'
  }
  for (const attachment of (simple.Attachments as Array<Record<string, unknown>> | undefined) ??
    []) {
    if (!isString(attachment.FileName) || !isString(attachment.RawContent))
      return 'Content.Simple.Attachments entries need FileName and RawContent'
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(attachment.RawContent))
      return 'Attachments RawContent must be base64'
  }
  if (input.ConfigurationSetName !== undefined && !isString(input.ConfigurationSetName))
    return 'ConfigurationSetName must be a string'
  return null
}

function handle(request: PeerRequest): PeerReply {
  const signature = verifySigV4(request, {
    credentials: { [SES_ACCESS_KEY_ID]: SES_SECRET_ACCESS_KEY },
    service: 'ses',
  })
  if (!signature.ok) return awsError(403, signature.code, signature.message)

  if (request.method === 'GET' && request.path === '/v2/email/account') {
    return {
      ...json(200, {
        SendingEnabled: true,
        ProductionAccessEnabled: true,
        EnforcementStatus: 'HEALTHY',
      }),
      check: { ok: true },
    }
  }
  if (request.method !== 'POST' || request.path !== '/v2/email/outbound-emails')
    return awsError(404, 'NotFoundException', `No route ${request.method} ${request.path}`)

  let body: unknown
  try {
    body = JSON.parse(request.body.toString('utf8'))
  } catch {
    return awsError(400, 'BadRequestException', 'Body is not JSON')
  }
  const problem = sendEmailProblem(body)
  if (problem) return awsError(400, 'BadRequestException', problem)
  return {
    ...json(200, { MessageId: `0100${randomUUID()}-000000` }),
    check: { ok: true, details: { region: signature.region } },
  }
}

export async function startSesPeer(): Promise<SesPeer> {
  const peer = await startHttpPeer(handle)
  return { ...peer, accessKeyId: SES_ACCESS_KEY_ID, secretAccessKey: SES_SECRET_ACCESS_KEY }
}
