import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { deliverR2, type R2Destination } from '../../src/handlers/storage-r2'
import { toHex } from '../../src/lib/encoding'
import { makeJob, storageDestination } from '../support/jobs'

function r2Destination(path: string, organizationId = 'hospital-001'): R2Destination {
  return storageDestination({ provider: 'r2', path, config: {} }, organizationId) as R2Destination
}

describe('R2 storage handler', () => {
  it("Should put the envelope under the organization's prefix with metadata and a checked SHA-256", async () => {
    const destination = r2Destination('/audit-logs/{organizationId}/{year}/{month}/{day}/')
    const job = makeJob(destination.id)
    const key = `orgs/hospital-001/storage/audit-logs/hospital-001/2026/03/07/${job.deliveryId}.json`

    const outcome = await deliverR2(job, destination, env)

    expect(outcome).toEqual({ kind: 'delivered', reference: { objectKey: key } })
    const object = await env.ARTIFACTS.get(key)
    expect(await object?.text()).toBe(job.envelope)
    expect(object?.httpMetadata).toEqual({ contentType: 'application/json' })
    expect(object?.customMetadata).toEqual({
      organizationId: 'hospital-001',
      deliveryId: job.deliveryId,
      sequence: '42',
      correlationId: 'corr-7',
    })
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(job.envelope))
    expect(object?.checksums.sha256 && toHex(object.checksums.sha256)).toBe(toHex(digest))
  })

  it('Should land a key with spaces, unicode and plus signs exactly as named', async () => {
    const destination = r2Destination('Audit Logs/{type}/a+b')
    const job = makeJob(destination.id, { payloadType: 'Zugriff+Ü ✓', correlationId: null })

    await deliverR2(job, destination, env)

    const listed = await env.ARTIFACTS.list({ prefix: 'orgs/hospital-001/storage/Audit Logs/' })
    expect(listed.objects.map((object) => object.key)).toContain(
      `orgs/hospital-001/storage/Audit Logs/Zugriff+Ü ✓/a+b/${job.deliveryId}.json`,
    )
  })

  it('Should refuse a payload type that would escape the template, writing nothing', async () => {
    const destination = r2Destination('{type}', 'hospital-r2-escape')
    const job = makeJob(destination.id, { payloadType: '..' }, 'hospital-r2-escape')

    expect(await deliverR2(job, destination, env)).toEqual({
      kind: 'permanent',
      code: 'invalid_object_key',
      message: '{type} value ".." would make a ".." segment',
    })
    expect((await env.ARTIFACTS.list({ prefix: 'orgs/hospital-r2-escape/' })).objects).toEqual([])
  })

  it('Should retry when R2 does not store the object', async () => {
    const destination = r2Destination('{organizationId}')
    const failing = {
      ...env,
      ARTIFACTS: {
        put: async () => {
          throw new Error('R2 unavailable')
        },
      } as unknown as R2Bucket,
    }
    expect(await deliverR2(makeJob(destination.id), destination, failing)).toEqual({
      kind: 'retryable',
      code: 'storage_error',
      message: 'R2 did not store the object',
    })
  })
})
