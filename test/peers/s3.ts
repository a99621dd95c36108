/**
 * S3 for tests: `s3rver` stores the objects, and a recording front on its own port checks
 * each request's SigV4 signature (s3rver itself does not verify V4) before passing it on.
 * The front records the headers S3 would act on (encryption, storage class, checksum) and
 * takes faults like every HTTP peer.
 *
 * Control routes besides those of `http-peer.ts`:
 * - `GET /__peer/objects?bucket=…&prefix=…`: the bucket's listing under a prefix, each
 *   object with its exact key, content type, `x-amz-meta-*` metadata and body.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import S3rver from 's3rver'
import { type HttpPeer, json, type PeerReply, startHttpPeer } from './http-peer.ts'
import { verifySigV4 } from './sigv4.ts'

export interface S3Peer extends HttpPeer {
  accessKeyId: string
  secretAccessKey: string
  buckets: string[]
}

/** s3rver's own access key pair; the front accepts only this one. */
export const S3_ACCESS_KEY_ID = 'S3RVER'
export const S3_SECRET_ACCESS_KEY = 'S3RVER'

interface StoredObject {
  key: string
  metadata: Record<string, string>
}
interface ObjectStore {
  listObjects(bucket: string, options: { prefix?: string }): Promise<{ objects: StoredObject[] }>
  getObject(bucket: string, key: string): Promise<{ content: NodeJS.ReadableStream | null } | null>
}

function s3Error(status: number, code: string, message: string): PeerReply {
  return {
    status,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  }
}

async function readStream(stream: NodeJS.ReadableStream | null): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0)
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks)
}

/**
 * s3rver answers 500 to every truncated ListObjectsV2 on Node 17 and later: its
 * continuation token is DES-encrypted, which OpenSSL 3 no longer offers
 * (https://github.com/jamhall/s3rver/issues/818). The front therefore asks s3rver for the
 * V1 (marker) listing and gives it V2's shape: `start-after` or the continuation token
 * becomes the marker, and a truncated answer carries a token naming its last key.
 */
function listV2AsV1(search: URLSearchParams): string | null {
  if (search.get('list-type') !== '2') return null
  const v1 = new URLSearchParams()
  for (const name of ['prefix', 'delimiter', 'max-keys', 'encoding-type']) {
    const value = search.get(name)
    if (value !== null) v1.set(name, value)
  }
  const token = search.get('continuation-token')
  const marker =
    token !== null ? Buffer.from(token, 'base64url').toString('utf8') : search.get('start-after')
  if (marker) v1.set('marker', marker)
  return `?${v1.toString()}`
}

function v1ListingAsV2(xml: string, search: URLSearchParams): string {
  const keys = [...xml.matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((match) => match[1] as string)
  const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml)
  const xmlText = (text: string) =>
    text.replace(
      /&(amp|lt|gt|quot|apos);/g,
      (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[name] as string,
    )
  const last = keys.at(-1)
  const extra = [
    `<KeyCount>${keys.length}</KeyCount>`,
    truncated && last !== undefined
      ? `<NextContinuationToken>${Buffer.from(xmlText(last), 'utf8').toString('base64url')}</NextContinuationToken>`
      : '',
    search.get('continuation-token')
      ? `<ContinuationToken>${search.get('continuation-token')}</ContinuationToken>`
      : '',
  ].join('')
  return xml
    .replace(/<Marker>[\s\S]*?<\/Marker>|<Marker\/>|<NextMarker>[\s\S]*?<\/NextMarker>/g, '')
    .replace('<MaxKeys>', `${extra}<MaxKeys>`)
}

/** Starts s3rver with the given buckets behind a verifying, recording front. */
export async function startS3Peer(buckets: string[]): Promise<S3Peer> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'))
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  })
  const backend = await s3rver.run()
  const backendUrl = `http://127.0.0.1:${backend.port}`
  const store = (s3rver as unknown as { store: ObjectStore }).store
  const credentials = { [S3_ACCESS_KEY_ID]: S3_SECRET_ACCESS_KEY }

  const front = await startHttpPeer(
    async (request) => {
      const signature = verifySigV4(request, { credentials, service: 's3' })
      if (!signature.ok) {
        return {
          ...s3Error(403, signature.code, signature.message),
          check: { ok: false, reason: signature.code },
        }
      }
      const declared = request.headers['x-amz-checksum-sha256']
      if (declared !== undefined) {
        const actual = createHash('sha256').update(request.body).digest('base64')
        if (declared !== actual) {
          return {
            ...s3Error(400, 'BadDigest', 'The SHA256 checksum you specified did not match'),
            check: { ok: false, reason: 'BadDigest' },
          }
        }
      }
      const headers = new Headers()
      for (const [name, value] of Object.entries(request.headers)) {
        if (!['host', 'connection', 'content-length', 'transfer-encoding', 'expect'].includes(name))
          headers.set(name, value)
      }
      const asV1 = request.method === 'GET' ? listV2AsV1(request.url.searchParams) : null
      const forwarded = await fetch(`${backendUrl}${request.path}${asV1 ?? request.url.search}`, {
        method: request.method,
        headers,
        body: ['GET', 'HEAD'].includes(request.method) ? undefined : request.body,
      })
      const replyHeaders: Record<string, string> = {}
      forwarded.headers.forEach((value, name) => {
        if (!['content-length', 'transfer-encoding', 'connection'].includes(name))
          replyHeaders[name] = value
      })
      return {
        status: forwarded.status,
        headers: replyHeaders,
        body:
          asV1 !== null && forwarded.ok
            ? v1ListingAsV2(await forwarded.text(), request.url.searchParams)
            : await forwarded.text(),
        check: { ok: true, details: { region: signature.region } },
      }
    },
    {
      control: async (request) => {
        if (request.url.pathname !== '/__peer/objects') return null
        const bucket = request.url.searchParams.get('bucket') ?? ''
        const prefix = request.url.searchParams.get('prefix') ?? ''
        if (!buckets.includes(bucket)) return json(404, { error: `no bucket ${bucket}` })
        const listing = await store.listObjects(bucket, { prefix })
        const objects = await Promise.all(
          listing.objects.map(async (object) => {
            const stored = await store.getObject(bucket, object.key)
            const body = await readStream(stored?.content ?? null)
            return {
              key: object.key,
              contentType: object.metadata['content-type'],
              metadata: Object.fromEntries(
                Object.entries(object.metadata).filter(([name]) => name.startsWith('x-amz-meta-')),
              ),
              body: body.toString('utf8'),
            }
          }),
        )
        return json(200, { objects })
      },
    },
  )

  return {
    ...front,
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
    buckets,
    close: async () => {
      await front.close()
      await s3rver.close()
      await rm(directory, { recursive: true, force: true })
    },
  }
}
