/**
 * S3 delivery through aws4fetch: one PUT of the envelope at the destination's key, with
 * server-side encryption, KMS key and storage class as configured, a SHA-256 checksum that
 * S3 verifies (`x-amz-checksum-sha256`, and the signed payload hash), and metadata naming
 * the organization, delivery, sequence and correlation id. Without keys in the config the
 * Worker's own AWS keys are used, only for buckets the operator allows for the organization.
 */
import { AwsClient } from 'aws4fetch'
import type { ServiceEnv } from '../env'
import { allowsLoopback } from '../env'
import { toBase64, toHex, utf8 } from '../lib/encoding'
import type { LoadedDestination, StorageConfig } from '../schemas/destination'
import { checkDestinationUrl } from '../security/url-guard'
import { classifyResponse, fetchWithTimeout, responseExcerpt } from './http-outcome'
import { objectKeyFor } from './storage-key'
import type { DeliveryHandler, DeliveryJob, Outcome } from './types'

export type S3Destination = Extract<LoadedDestination, { type: 'storage' }> & {
  config: Extract<StorageConfig, { provider: 's3' }>
}
type S3Config = S3Destination['config']['config']

const S3_TIMEOUT_MS = 30_000

/** Encodes one key segment as S3 expects: RFC 3986, so `+`, spaces and unicode survive. */
export function encodeKeySegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

/** The object URL: path-style when asked or when an endpoint is set, else virtual-hosted. */
export function objectUrl(config: S3Config, key: string): string {
  const path = key.split('/').map(encodeKeySegment).join('/')
  if (config.endpoint) return `${config.endpoint.replace(/\/+$/, '')}/${config.bucket}/${path}`
  if (config.forcePathStyle)
    return `https://s3.${config.region}.amazonaws.com/${config.bucket}/${path}`
  return `https://${config.bucket}.s3.${config.region}.amazonaws.com/${path}`
}

/** Metadata values must be ASCII; anything else travels RFC 2047 encoded, as S3 returns it. */
function metadataValue(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value
  return `=?UTF-8?B?${toBase64(utf8.encode(value))}?=`
}

function sharedBucketAllowed(env: ServiceEnv, organizationId: string, bucket: string): boolean {
  try {
    const allowed = JSON.parse(env.ALLOWED_SHARED_BUCKETS || '{}') as Record<string, unknown>
    const buckets = allowed[organizationId]
    return Array.isArray(buckets) && buckets.includes(bucket)
  } catch {
    return false
  }
}

interface Credentials {
  accessKeyId: string
  secretAccessKey: string
  shared: boolean
}

/** The config's own keys, or the Worker's when the operator allows this bucket. */
export function s3Credentials(
  config: S3Config,
  organizationId: string,
  env: ServiceEnv,
): Credentials | Outcome {
  if (config.accessKeyId && config.secretAccessKey) {
    return {
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      shared: false,
    }
  }
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) {
    return {
      kind: 'permanent',
      code: 'missing_credentials',
      message: 'The destination has no S3 keys and the service has no AWS keys of its own',
    }
  }
  if (!sharedBucketAllowed(env, organizationId, config.bucket)) {
    return {
      kind: 'permanent',
      code: 'bucket_not_allowed',
      message: `Bucket "${config.bucket}" is not allowed for this organization with the service's AWS keys`,
    }
  }
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    shared: true,
  }
}

/** Headers for the PUT (all signed, since S3 requires every x-amz-* header to be). */
async function putHeaders(config: S3Config, job: DeliveryJob, body: Uint8Array<ArrayBuffer>) {
  const digest = await crypto.subtle.digest('SHA-256', body)
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-amz-content-sha256': toHex(digest),
    'x-amz-checksum-sha256': toBase64(digest),
    'x-amz-meta-organization-id': metadataValue(job.organizationId),
    'x-amz-meta-delivery-id': metadataValue(job.deliveryId),
    'x-amz-meta-sequence': String(job.sequence),
  }
  if (job.correlationId !== null)
    headers['x-amz-meta-correlation-id'] = metadataValue(job.correlationId)
  // A KMS key without an encryption mode means KMS encryption.
  const encryption = config.serverSideEncryption ?? (config.kmsKeyId ? 'aws:kms' : undefined)
  if (encryption) headers['x-amz-server-side-encryption'] = encryption
  if (config.kmsKeyId && encryption?.startsWith('aws:kms'))
    headers['x-amz-server-side-encryption-aws-kms-key-id'] = config.kmsKeyId
  if (config.storageClass) headers['x-amz-storage-class'] = config.storageClass
  return headers
}

/** S3's error code and message from its XML error body. */
function s3ErrorDetail(xml: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1]
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1]
  return [code, message].filter(Boolean).join(': ') || xml
}

/** Sends one signed request to the bucket; shared by delivery and the connection test. */
export async function s3Request(
  destination: S3Destination,
  env: ServiceEnv,
  key: string,
  init: {
    method: 'PUT' | 'DELETE'
    headers?: Record<string, string>
    body?: Uint8Array<ArrayBuffer>
  },
): Promise<{ response: Response } | { outcome: Outcome }> {
  const { config } = destination.config
  const credentials = s3Credentials(config, destination.organizationId, env)
  if ('kind' in credentials) return { outcome: credentials }
  const url = objectUrl(config, key)
  const guard = checkDestinationUrl(url, { allowLoopback: allowsLoopback(env) })
  if (!guard.ok)
    return {
      outcome: {
        kind: 'permanent',
        code: 'destination_refused',
        message: `S3 endpoint ${guard.reason}`,
      },
    }
  const client = new AwsClient({
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    service: 's3',
    region: config.region,
    retries: 0,
  })
  const signed = await client.sign(url, {
    method: init.method,
    headers: init.headers ?? {
      'x-amz-content-sha256': toHex(await crypto.subtle.digest('SHA-256', new Uint8Array())),
    },
    body: init.body,
  })
  return fetchWithTimeout(signed, {}, S3_TIMEOUT_MS, 'S3')
}

export const deliverS3: DeliveryHandler<S3Destination> = async (job, destination, env) => {
  const { config } = destination.config
  const credentials = s3Credentials(config, destination.organizationId, env)
  if ('kind' in credentials) return credentials
  const key = objectKeyFor(destination.config.path, job, {
    requireOrganizationPrefix: credentials.shared,
  })
  if (!key.ok) return { kind: 'permanent', code: 'invalid_object_key', message: key.reason }

  const body = utf8.encode(job.envelope)
  const sent = await s3Request(destination, env, key.key, {
    method: 'PUT',
    headers: await putHeaders(config, job, body),
    body,
  })
  if ('outcome' in sent) return sent.outcome
  const { response } = sent
  if (response.ok) {
    await response.body?.cancel()
    return classifyResponse(response, { peer: 'S3', reference: { objectKey: key.key } })
  }
  const detail = s3ErrorDetail(await responseExcerpt(response))
  return classifyResponse(response, { peer: 'S3', detail })
}
