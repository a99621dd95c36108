import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { deliverS3, objectUrl, type S3Destination } from '../../src/handlers/storage-s3'
import { toBase64 } from '../../src/lib/encoding'
import { makeJob, storageDestination } from '../support/jobs'
import { addFault, peers, recorded, s3Objects } from '../support/peers'

const BUCKET = 'audit-archive'

function s3Destination(
  organizationId: string,
  overrides: Partial<S3Destination['config']['config']> = {},
  path = '/audit-logs/{organizationId}/{year}/{month}/{day}/',
): S3Destination {
  const { s3 } = peers()
  return storageDestination(
    {
      provider: 's3',
      path,
      config: {
        region: 'us-east-1',
        bucket: BUCKET,
        endpoint: s3.url,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        forcePathStyle: true,
        serverSideEncryption: 'aws:kms',
        kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/hipaa-audit',
        storageClass: 'STANDARD_IA',
        ...overrides,
      },
    },
    organizationId,
  ) as S3Destination
}

const uniqueOrganization = () => `hospital-${crypto.randomUUID().slice(0, 8)}`

async function sha256Base64(text: string): Promise<string> {
  return toBase64(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))
}

describe('S3 storage handler', () => {
  it('Should put the envelope at the exact key with encryption, storage class, checksum and metadata', async () => {
    const organizationId = uniqueOrganization()
    const destination = s3Destination(organizationId)
    const job = makeJob(destination.id, {}, organizationId)
    const key = `audit-logs/${organizationId}/2026/03/07/${job.deliveryId}.json`

    const outcome = await deliverS3(job, destination, env)

    expect(outcome).toEqual({ kind: 'delivered', reference: { objectKey: key, httpStatus: 200 } })
    expect(await s3Objects(BUCKET, `audit-logs/${organizationId}/`)).toEqual([
      {
        key,
        contentType: 'application/json',
        metadata: {
          'x-amz-meta-organization-id': organizationId,
          'x-amz-meta-delivery-id': job.deliveryId,
          'x-amz-meta-sequence': '42',
          'x-amz-meta-correlation-id': 'corr-7',
        },
        body: job.envelope,
      },
    ])
    const [request] = await recorded(peers().s3.url, { path: `/${BUCKET}/${key}` })
    expect(request?.method).toBe('PUT')
    expect(request?.check).toEqual({ ok: true, details: { region: 'us-east-1' } })
    expect(request?.headers['x-amz-server-side-encryption']).toBe('aws:kms')
    expect(request?.headers['x-amz-server-side-encryption-aws-kms-key-id']).toBe(
      'arn:aws:kms:us-east-1:111122223333:key/hipaa-audit',
    )
    expect(request?.headers['x-amz-storage-class']).toBe('STANDARD_IA')
    expect(request?.headers['x-amz-checksum-sha256']).toBe(await sha256Base64(job.envelope))
  })

  it('Should land a key with spaces, unicode and plus signs exactly as named', async () => {
    const organizationId = uniqueOrganization()
    const destination = s3Destination(organizationId, {}, '{organizationId}/Audit Logs/{type}/a+b')
    const job = makeJob(
      destination.id,
      { payloadType: 'Zugriff auf Akte+Ü ✓ (read)' },
      organizationId,
    )

    const outcome = await deliverS3(job, destination, env)

    const key = `${organizationId}/Audit Logs/Zugriff auf Akte+Ü ✓ (read)/a+b/${job.deliveryId}.json`
    expect(outcome).toEqual({ kind: 'delivered', reference: { objectKey: key, httpStatus: 200 } })
    const listed = await s3Objects(BUCKET, `${organizationId}/`)
    expect(listed.map((object) => object.key)).toEqual([key])
    expect(listed[0]?.body).toBe(job.envelope)
  })

  it('Should write the same key again on a retry, so a receiver sees one object', async () => {
    const organizationId = uniqueOrganization()
    const destination = s3Destination(organizationId)
    const job = makeJob(destination.id, {}, organizationId)

    await deliverS3(job, destination, env)
    await deliverS3({ ...job, attempt: 2 }, destination, env)

    expect(await s3Objects(BUCKET, `audit-logs/${organizationId}/`)).toHaveLength(1)
  })

  it('Should encode non-ASCII metadata as RFC 2047 and leave out an absent correlation id', async () => {
    const organizationId = uniqueOrganization()
    const destination = s3Destination(organizationId)
    const job = makeJob(destination.id, { correlationId: 'Ärztin-7' }, organizationId)
    await deliverS3(job, destination, env)
    const plain = makeJob(destination.id, { correlationId: null }, organizationId)
    await deliverS3(plain, destination, env)

    const objects = await s3Objects(BUCKET, `audit-logs/${organizationId}/`)
    const byKey = Object.fromEntries(objects.map((object) => [object.key, object.metadata]))
    const prefix = `audit-logs/${organizationId}/2026/03/07/`
    expect(byKey[`${prefix}${job.deliveryId}.json`]?.['x-amz-meta-correlation-id']).toBe(
      '=?UTF-8?B?w4RyenRpbi03?=',
    )
    expect(byKey[`${prefix}${plain.deliveryId}.json`]).not.toHaveProperty(
      'x-amz-meta-correlation-id',
    )
  })

  it('Should give up when S3 refuses the signature', async () => {
    const organizationId = uniqueOrganization()
    const destination = s3Destination(organizationId, { secretAccessKey: 'not-the-secret' })

    const outcome = await deliverS3(makeJob(destination.id, {}, organizationId), destination, env)

    expect(outcome).toEqual({
      kind: 'permanent',
      code: 'http_403',
      message:
        'S3 answered 403: SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided',
      httpStatus: 403,
    })
    expect(await s3Objects(BUCKET, `audit-logs/${organizationId}/`)).toEqual([])
  })

  it('Should give up on a bucket that does not exist', async () => {
    const destination = s3Destination(uniqueOrganization(), { bucket: 'no-such-bucket' })
    const outcome = await deliverS3(makeJob(destination.id), destination, env)
    expect(outcome).toEqual({
      kind: 'permanent',
      code: 'http_404',
      message: 'S3 answered 404: NoSuchBucket: The specified bucket does not exist',
      httpStatus: 404,
    })
  })

  it('Should retry when S3 is slowing down, honouring Retry-After', async () => {
    const organizationId = uniqueOrganization()
    const destination = s3Destination(organizationId)
    await addFault(
      peers().s3.url,
      { prefix: `/${BUCKET}/audit-logs/${organizationId}/` },
      {
        mode: 'status',
        status: 503,
        headers: { 'content-type': 'application/xml', 'retry-after': '2' },
        body: '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
      },
    )
    const job = makeJob(destination.id, {}, organizationId)

    expect(await deliverS3(job, destination, env)).toEqual({
      kind: 'retryable',
      code: 'http_503',
      message: 'S3 answered 503: SlowDown: Please reduce your request rate.',
      httpStatus: 503,
      retryAfterMs: 2000,
    })
    expect((await deliverS3(job, destination, env)).kind).toBe('delivered')
  })

  it('Should refuse a payload type that would climb out of the template, writing nothing', async () => {
    const organizationId = uniqueOrganization()
    const destination = s3Destination(organizationId, {}, '{organizationId}/{type}')
    const job = makeJob(destination.id, { payloadType: '../hospital-002' }, organizationId)

    expect(await deliverS3(job, destination, env)).toEqual({
      kind: 'permanent',
      code: 'invalid_object_key',
      message: '{type} value "../hospital-002" contains "/"',
    })
    expect(await recorded(peers().s3.url, { prefix: `/${BUCKET}/${organizationId}` })).toEqual([])
  })
})

describe("S3 with the service's own AWS keys", () => {
  const sharedEnv = (organizationId: string, buckets: string[]) => ({
    ...env,
    AWS_ACCESS_KEY_ID: peers().s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: peers().s3.secretAccessKey,
    ALLOWED_SHARED_BUCKETS: JSON.stringify({ [organizationId]: buckets }),
  })

  it('Should write to a bucket the operator allows for the organization, under its own prefix', async () => {
    const organizationId = uniqueOrganization()
    const destination = s3Destination(
      organizationId,
      { bucket: 'audit-shared', accessKeyId: undefined, secretAccessKey: undefined },
      '{organizationId}/{year}',
    )
    const job = makeJob(destination.id, {}, organizationId)

    const outcome = await deliverS3(job, destination, sharedEnv(organizationId, ['audit-shared']))

    expect(outcome).toEqual({
      kind: 'delivered',
      reference: { objectKey: `${organizationId}/2026/${job.deliveryId}.json`, httpStatus: 200 },
    })
    expect((await s3Objects('audit-shared', `${organizationId}/`)).map((o) => o.body)).toEqual([
      job.envelope,
    ])
  })

  it('Should refuse a bucket the operator did not allow for the organization', async () => {
    const organizationId = uniqueOrganization()
    const destination = s3Destination(
      organizationId,
      { bucket: 'audit-shared', accessKeyId: undefined, secretAccessKey: undefined },
      '{organizationId}/{year}',
    )
    const outcome = await deliverS3(
      makeJob(destination.id, {}, organizationId),
      destination,
      sharedEnv('hospital-other', ['audit-shared']),
    )
    expect(outcome).toEqual({
      kind: 'permanent',
      code: 'bucket_not_allowed',
      message: `Bucket "audit-shared" is not allowed for this organization with the service's AWS keys`,
    })
  })

  it("Should refuse a key outside the organization's prefix in a shared bucket", async () => {
    const organizationId = uniqueOrganization()
    const destination = s3Destination(
      organizationId,
      { bucket: 'audit-shared', accessKeyId: undefined, secretAccessKey: undefined },
      'hospital-002/{year}',
    )
    const job = makeJob(destination.id, {}, organizationId)
    expect(await deliverS3(job, destination, sharedEnv(organizationId, ['audit-shared']))).toEqual({
      kind: 'permanent',
      code: 'invalid_object_key',
      message: `in a shared bucket the key must start with "${organizationId}/", got "hospital-002/2026/${job.deliveryId}.json"`,
    })
  })

  it('Should give up when neither the destination nor the service has keys', async () => {
    const destination = s3Destination(uniqueOrganization(), {
      accessKeyId: undefined,
      secretAccessKey: undefined,
    })
    const outcome = await deliverS3(makeJob(destination.id), destination, {
      ...env,
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
    })
    expect(outcome).toEqual({
      kind: 'permanent',
      code: 'missing_credentials',
      message: 'The destination has no S3 keys and the service has no AWS keys of its own',
    })
  })
})

describe('S3 object URLs', () => {
  const config = s3Destination('hospital-001').config.config

  it('Should address AWS path-style or virtual-hosted as configured', () => {
    const aws = { ...config, endpoint: undefined }
    expect(objectUrl({ ...aws, region: 'eu-west-1' }, 'a b/c+d.json')).toBe(
      'https://s3.eu-west-1.amazonaws.com/audit-archive/a%20b/c%2Bd.json',
    )
    expect(
      objectUrl({ ...aws, region: 'eu-west-1', forcePathStyle: false }, "x/it's(1)*!.json"),
    ).toBe('https://audit-archive.s3.eu-west-1.amazonaws.com/x/it%27s%281%29%2A%21.json')
  })

  it('Should always use path-style on a custom endpoint', () => {
    expect(
      objectUrl(
        { ...config, endpoint: 'https://minio.example.com/', forcePathStyle: false },
        'k.json',
      ),
    ).toBe('https://minio.example.com/audit-archive/k.json')
  })
})
