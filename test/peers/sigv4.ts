/**
 * An AWS Signature Version 4 verifier for the S3 and SES stand-ins. It recomputes the
 * signature from the canonical request exactly as AWS describes it, with node:crypto and
 * its own canonicalization (not aws4fetch), so that a signing mistake in the service cannot
 * be hidden by the same mistake in the check.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { PeerRequest } from './http-peer.ts'

export interface SigV4Expectation {
  /** Access key id to secret access key. */
  credentials: Record<string, string>
  service: string
  /** How far x-amz-date may be from the peer's clock (AWS allows 15 minutes). */
  maxSkewMs?: number
}

export type SigV4Result =
  | { ok: true; accessKeyId: string; region: string; signedHeaders: string[] }
  | { ok: false; code: string; message: string }

const UNRESERVED = /^[A-Za-z0-9\-._~]$/

/** RFC 3986 encoding over UTF-8 bytes, uppercase hex, as the SigV4 spec defines UriEncode. */
export function uriEncode(value: string, keepSlash: boolean): string {
  let out = ''
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte)
    if (UNRESERVED.test(char) || (keepSlash && char === '/')) out += char
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

function canonicalUri(rawPath: string, service: string): string {
  // S3 encodes the decoded key once and never normalizes; other services encode the path
  // as sent once more (so a client's %XX becomes %25XX), per the SigV4 test suite.
  if (service === 's3') return uriEncode(decodeURIComponent(rawPath), true)
  return uriEncode(rawPath, true)
}

function canonicalQuery(search: string): string {
  if (!search) return ''
  return search
    .replace(/^\?/, '')
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const [key = '', value = ''] = pair.split('=')
      return [
        uriEncode(decodeURIComponent(key), false),
        uriEncode(decodeURIComponent(value), false),
      ]
    })
    .sort(([k1 = '', v1 = ''], [k2 = '', v2 = '']) =>
      k1 < k2 ? -1 : k1 > k2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0,
    )
    .map(([key, value]) => `${key}=${value}`)
    .join('&')
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest()

function parseAuthorization(header: string | undefined) {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      header ?? '',
    )
  if (!match) return null
  const [, accessKeyId = '', date = '', region = '', service = '', signed = '', signature = ''] =
    match
  return { accessKeyId, date, region, service, signedHeaders: signed.split(';'), signature }
}

function fail(code: string, message: string): SigV4Result {
  return { ok: false, code, message }
}

/** Verifies a request signed in the Authorization header. */
export function verifySigV4(request: PeerRequest, expect: SigV4Expectation): SigV4Result {
  const auth = parseAuthorization(request.headers.authorization)
  if (!auth) return fail('IncompleteSignature', 'Authorization header is not AWS4-HMAC-SHA256')
  const secret = expect.credentials[auth.accessKeyId]
  if (secret === undefined)
    return fail('InvalidAccessKeyId', `Unknown access key id ${auth.accessKeyId}`)
  if (auth.service !== expect.service)
    return fail('SignatureDoesNotMatch', `Credential scope names service ${auth.service}`)

  const amzDate = request.headers['x-amz-date'] ?? ''
  const parsedDate = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate)
  if (!parsedDate) return fail('IncompleteSignature', 'x-amz-date is missing or malformed')
  const [, y, mo, d, h, mi, s] = parsedDate
  const signedAt = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`)
  if (Math.abs(Date.now() - signedAt) > (expect.maxSkewMs ?? 15 * 60_000))
    return fail('RequestTimeTooSkewed', 'x-amz-date is too far from the server time')
  if (auth.date !== amzDate.slice(0, 8))
    return fail('SignatureDoesNotMatch', 'Credential scope date differs from x-amz-date')

  for (const required of ['host', 'x-amz-date'])
    if (!auth.signedHeaders.includes(required))
      return fail('SignatureDoesNotMatch', `${required} must be signed`)
  for (const name of Object.keys(request.headers))
    if (name.startsWith('x-amz-') && !auth.signedHeaders.includes(name))
      return fail('AccessDenied', `Header ${name} is present but not signed`)

  const bodyHash = sha256Hex(request.body)
  let payloadHash = bodyHash
  if (expect.service === 's3') {
    const declared = request.headers['x-amz-content-sha256']
    if (!declared) return fail('InvalidRequest', 'x-amz-content-sha256 is required')
    if (declared !== 'UNSIGNED-PAYLOAD' && declared !== bodyHash)
      return fail('XAmzContentSHA256Mismatch', 'x-amz-content-sha256 does not match the body')
    payloadHash = declared
  }

  const canonicalHeaders = auth.signedHeaders
    .map((name) => `${name}:${(request.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('')
  const canonicalRequest = [
    request.method,
    canonicalUri(request.path, expect.service),
    canonicalQuery(request.url.search),
    canonicalHeaders,
    auth.signedHeaders.join(';'),
    payloadHash,
  ].join('\n')
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n')
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${secret}`, auth.date), auth.region), auth.service),
    'aws4_request',
  )
  const expected = Buffer.from(createHmac('sha256', signingKey).update(stringToSign).digest('hex'))
  const given = Buffer.from(auth.signature)
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return fail(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided',
    )
  }
  return {
    ok: true,
    accessKeyId: auth.accessKeyId,
    region: auth.region,
    signedHeaders: auth.signedHeaders,
  }
}
