/**
 * Retention's view of an S3 storage destination, signed with aws4fetch: ListObjectsV2
 * (`start-after` so that a listing can resume from a stored key on the next run) and
 * DeleteObjects (up to 1,000 keys, `Content-MD5` as S3 requires). The same credentials and
 * address rules as delivery apply; redirects are not followed.
 */
import { AwsClient } from 'aws4fetch'
import type { ServiceEnv } from '../../env'
import { allowsLoopback } from '../../env'
import { objectUrl, type S3Destination, s3Credentials } from '../../handlers/storage-s3'
import { toBase64, utf8 } from '../../lib/encoding'
import { checkDestinationUrl } from '../../security/url-guard'
import type { ObjectStore, StoredObject } from './object-store'

const TIMEOUT_MS = 30_000

/** RFC 3986 encoding, as SigV4 canonicalizes query values (a space is %20, never +). */
function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`)
}

function xmlUnescape(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
    const lower = entity.toLowerCase()
    if (lower in named) return named[lower] as string
    const code = lower.startsWith('#x')
      ? Number.parseInt(lower.slice(2), 16)
      : Number(lower.slice(1))
    return String.fromCodePoint(code)
  })
}

/** The text of each `<tag>` directly inside `xml` (S3's responses have no nesting of the same tag). */
function elements(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map(
    (match) => match[1] as string,
  )
}

/** The store, or why it cannot be reached (no usable credentials, a refused address). */
export function s3Store(destination: S3Destination, env: ServiceEnv): ObjectStore | string {
  const { config } = destination.config
  const credentials = s3Credentials(config, destination.organizationId, env)
  if ('kind' in credentials)
    return credentials.kind === 'delivered' ? 'no S3 credentials' : credentials.message
  const bucketUrl = objectUrl(config, '').replace(/\/$/, '')
  const guard = checkDestinationUrl(bucketUrl, { allowLoopback: allowsLoopback(env) })
  if (!guard.ok) return `S3 endpoint ${guard.reason}`
  const client = new AwsClient({
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    service: 's3',
    region: config.region,
    retries: 0,
  })
  const send = async (url: string, init: RequestInit, operation: string) => {
    const signed = await client.sign(url, init)
    const response = await fetch(signed, {
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
    const text = await response.text()
    if (!response.ok) {
      const code = elements(text, 'Code')[0] ?? 'unknown'
      throw new Error(`S3 ${operation} answered ${response.status} (${code})`)
    }
    return text
  }

  return {
    async list(prefix, startAfter, limit) {
      const query = [
        'list-type=2',
        `max-keys=${limit}`,
        `prefix=${encode(prefix)}`,
        ...(startAfter === null ? [] : [`start-after=${encode(startAfter)}`]),
      ]
      const xml = await send(`${bucketUrl}?${query.join('&')}`, { method: 'GET' }, 'ListObjectsV2')
      const objects: StoredObject[] = elements(xml, 'Contents').map((entry) => ({
        key: xmlUnescape(elements(entry, 'Key')[0] ?? ''),
        lastModifiedMs: Date.parse(elements(entry, 'LastModified')[0] ?? ''),
      }))
      return { objects, truncated: elements(xml, 'IsTruncated')[0] === 'true' }
    },
    async remove(keys) {
      if (keys.length === 0) return
      const body = utf8.encode(
        `<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>true</Quiet>${keys
          .map((key) => `<Object><Key>${xmlEscape(key)}</Key></Object>`)
          .join('')}</Delete>`,
      )
      const md5 = toBase64(await crypto.subtle.digest('MD5', body))
      const xml = await send(
        `${bucketUrl}?delete`,
        {
          method: 'POST',
          headers: { 'content-md5': md5, 'content-type': 'application/xml' },
          body,
        },
        'DeleteObjects',
      )
      const refused = elements(xml, 'Error')
      if (refused.length > 0) {
        const code = elements(refused[0] as string, 'Code')[0] ?? 'unknown'
        throw new Error(
          `S3 DeleteObjects refused ${refused.length} of ${keys.length} keys (${code})`,
        )
      }
    },
  }
}
