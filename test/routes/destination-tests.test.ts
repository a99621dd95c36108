import { describe, expect, it } from 'vitest'
import { call, createTenant } from '../support/api'
import {
  addFault,
  peers,
  recorded,
  registerWebhook,
  s3Objects,
  smtpLogins,
  uniquePath,
  uniqueRecipient,
} from '../support/peers'

async function createDestination(apiKey: string, body: Record<string, unknown>) {
  const created = await call('/v1/destinations', { token: apiKey, body })
  if (created.status !== 201)
    throw new Error(`create destination: ${created.status} ${created.text}`)
  return created.json
}

async function webhookDestination(apiKey: string) {
  const path = uniquePath()
  const created = await createDestination(apiKey, {
    label: `hook ${path}`,
    type: 'webhook',
    config: { webhook: { url: `${peers().webhook.url}${path}` } },
  })
  await registerWebhook(path, [created.config.webhook.secret])
  return { path, id: created.id as string }
}

describe('POST /v1/destinations/{id}/test', () => {
  it('Should send a webhook a signed destination.test event and report success', async () => {
    const tenant = await createTenant('probe')
    const { path, id } = await webhookDestination(tenant.apiKey)

    const response = await call(`/v1/destinations/${id}/test`, {
      method: 'POST',
      token: tenant.apiKey,
    })

    expect(response.status).toBe(200)
    expect(response.json).toEqual({
      destinationId: id,
      type: 'webhook',
      ok: true,
      outcome: 'delivered',
      code: null,
      message: null,
      httpStatus: 200,
      reference: { httpStatus: 200 },
      durationMs: expect.any(Number),
      testedAt: expect.any(String),
    })
    const [request] = await recorded(peers().webhook.url, { path })
    expect(request?.check?.ok).toBe(true)
    expect(JSON.parse(request?.body ?? '{}')).toMatchObject({
      type: 'destination.test',
      organizationId: tenant.organizationId,
      sequence: 0,
      data: { destinationId: id },
    })
  })

  it('Should answer 200 with the failure when the destination refuses', async () => {
    const tenant = await createTenant('probe')
    const { path, id } = await webhookDestination(tenant.apiKey)
    await addFault(peers().webhook.url, { path }, { mode: 'status', status: 500, body: 'down' })

    const response = await call(`/v1/destinations/${id}/test`, {
      method: 'POST',
      token: tenant.apiKey,
    })

    expect(response.status).toBe(200)
    expect(response.json).toMatchObject({
      ok: false,
      outcome: 'retryable',
      code: 'http_500',
      message: 'Receiver answered 500: down',
      httpStatus: 500,
      reference: null,
    })
  })

  it('Should write a probe object to S3 and delete it again', async () => {
    const tenant = await createTenant('probe')
    const { s3 } = peers()
    const created = await createDestination(tenant.apiKey, {
      label: 'archive',
      type: 'storage',
      config: {
        storage: {
          provider: 's3',
          path: `probes/${tenant.organizationId}/{type}`,
          config: {
            region: 'us-east-1',
            bucket: 'audit-archive',
            endpoint: s3.url,
            accessKeyId: s3.accessKeyId,
            secretAccessKey: s3.secretAccessKey,
          },
        },
      },
    })

    const response = await call(`/v1/destinations/${created.id}/test`, {
      method: 'POST',
      token: tenant.apiKey,
    })

    expect(response.json).toMatchObject({ ok: true, outcome: 'delivered', type: 'storage' })
    const key = response.json.reference.objectKey as string
    expect(key).toMatch(
      new RegExp(`^probes/${tenant.organizationId}/destination\\.test/probe_[a-z2-7]{20}\\.json$`),
    )
    const requests = await recorded(s3.url, { path: `/audit-archive/${key}` })
    expect(requests.map((request) => [request.method, request.status])).toEqual([
      ['PUT', 200],
      ['DELETE', 204],
    ])
    expect(await s3Objects('audit-archive', `probes/${tenant.organizationId}/`)).toEqual([])
  })

  it('Should log in to an SMTP server and quit, sending nothing', async () => {
    const tenant = await createTenant('probe')
    const user = `probe-${crypto.randomUUID().slice(0, 8)}`
    const { smtp } = peers()
    const created = await createDestination(tenant.apiKey, {
      label: 'mail',
      type: 'email',
      config: {
        email: {
          service: 'smtp',
          config: {
            host: smtp.host,
            port: smtp.port,
            secure: 'none',
            username: user,
            password: smtp.password,
          },
          from: 'audit@hospital.test',
          recipients: [uniqueRecipient()],
          subject: 'Audit {{eventType}}',
        },
      },
    })

    const response = await call(`/v1/destinations/${created.id}/test`, {
      method: 'POST',
      token: tenant.apiKey,
    })

    expect(response.json).toMatchObject({ ok: true, outcome: 'delivered', type: 'email' })
    expect(await smtpLogins(user)).toEqual([expect.objectContaining({ ok: true })])
  })

  it('Should check a download destination by writing to R2', async () => {
    const tenant = await createTenant('probe')
    const created = await createDestination(tenant.apiKey, {
      label: 'links',
      type: 'download',
      config: { download: { expiresIn: 3600, maxDownloads: 5 } },
    })
    const response = await call(`/v1/destinations/${created.id}/test`, {
      method: 'POST',
      token: tenant.apiKey,
    })
    expect(response.json).toMatchObject({ ok: true, outcome: 'delivered', type: 'download' })
  })

  it("Should answer 404 for an unknown id and for another organization's destination", async () => {
    const owner = await createTenant('probe')
    const other = await createTenant('probe')
    const { id } = await webhookDestination(owner.apiKey)

    for (const [path, token] of [
      [`/v1/destinations/${id}/test`, other.apiKey],
      ['/v1/destinations/dst_aaaaaaaaaaaaaaaaaaaa/test', owner.apiKey],
    ] as const) {
      const response = await call(path, { method: 'POST', token })
      expect(response.status).toBe(404)
      expect(response.json.error).toEqual({
        code: 'not_found',
        message: `Destination "${path.split('/')[3]}" does not exist`,
        requestId: expect.any(String),
      })
    }
  })

  it('Should need an API key', async () => {
    const response = await call('/v1/destinations/dst_aaaaaaaaaaaaaaaaaaaa/test', {
      method: 'POST',
    })
    expect(response.status).toBe(401)
  })
})
