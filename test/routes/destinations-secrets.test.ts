import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { loadDestination } from '../../src/services/destinations/repository'
import { call, createTenant } from '../support/api'

type Tenant = Awaited<ReturnType<typeof createTenant>>

const SECRETS = {
  webhook: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  header: 'Bearer Tk9Qw2Er5Ty8Ui3Op6As1Df',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  apiKey: 'SG.q8Zr2Kp5Lm7Nw3Xv9Bt4Yc6',
  smtpPassword: 'Pw7Hj2Kl9Zx4Cv8Bn3Mq5',
  encryptionKey: 'mS8niYM5rXDaJAUdc2aQxNGdhjyVu43Rc3jnqeBCNmU=',
}

/**
 * Every 8-character window of every secret: none may appear anywhere in a response (the
 * mask shows only the last 4). The values are random-looking so no window is a common word.
 */
function expectNoSecretIn(text: string) {
  for (const secret of Object.values(SECRETS)) {
    for (let i = 0; i + 8 <= secret.length; i++) {
      expect(text, `response contains part of ${secret}`).not.toContain(secret.slice(i, i + 8))
    }
  }
}

async function createAll(tenant: Tenant) {
  const bodies = [
    {
      label: 'Hook',
      type: 'webhook',
      config: {
        webhook: {
          url: 'https://example.com/hook',
          headers: { Authorization: SECRETS.header },
          secret: SECRETS.webhook,
        },
      },
    },
    {
      label: 'Bucket',
      type: 'storage',
      config: {
        storage: {
          provider: 's3',
          config: {
            bucket: 'audit-archive',
            accessKeyId: SECRETS.accessKeyId,
            secretAccessKey: SECRETS.secretAccessKey,
          },
        },
      },
    },
    {
      label: 'Sendgrid',
      type: 'email',
      config: {
        email: {
          service: 'sendgrid',
          apiKey: SECRETS.apiKey,
          from: 'audit@hospital.com',
          subject: 'Audit',
          recipients: ['compliance@hospital.com'],
          encryption: { enabled: true, key: SECRETS.encryptionKey },
        },
      },
    },
    {
      label: 'SMTP',
      type: 'email',
      config: {
        email: {
          service: 'smtp',
          config: {
            host: 'smtp.example.com',
            port: 465,
            username: 'audit',
            password: SECRETS.smtpPassword,
          },
          from: 'audit@hospital.com',
          subject: 'Audit',
          recipients: ['compliance@hospital.com'],
        },
      },
    },
  ]
  const responses = []
  for (const body of bodies) {
    const response = await call('/v1/destinations', { token: tenant.apiKey, body })
    expect(response.status, response.text).toBe(201)
    responses.push(response)
  }
  return responses
}

describe('destination secrets', () => {
  it('Should never put a secret, or any 8 characters of one, in any response', async () => {
    const tenant = await createTenant()
    const created = await createAll(tenant)
    const texts = created.map((response) => response.text)
    for (const response of created) {
      const id = response.json.id
      const path = `/v1/destinations/${id}`
      texts.push((await call(path, { token: tenant.apiKey })).text)
      texts.push(
        (await call(path, { method: 'PATCH', token: tenant.apiKey, body: { description: 'x' } }))
          .text,
      )
      texts.push((await call(`${path}/default`, { method: 'PUT', token: tenant.apiKey })).text)
    }
    texts.push((await call('/v1/destinations', { token: tenant.apiKey })).text)
    texts.push((await call('/v1/audit-log?limit=200', { token: tenant.apiKey })).text)
    for (const text of texts) expectNoSecretIn(text)
  })

  it('Should store secrets only sealed: the config column holds none of them', async () => {
    const tenant = await createTenant()
    await createAll(tenant)
    const rows = await env.DB.prepare(
      'SELECT config, secrets FROM destinations WHERE organization_id = ?',
    )
      .bind(tenant.organizationId)
      .all<{ config: string; secrets: string }>()
    expect(rows.results).toHaveLength(4)
    for (const row of rows.results) {
      expect(row.secrets).toMatch(/^v1\.k1\.[\w-]+\.[\w-]+$/)
      expectNoSecretIn(row.config)
      expectNoSecretIn(row.secrets)
    }
  })

  it('Should give the delivery pipeline every secret opened', async () => {
    const tenant = await createTenant()
    const [hook, bucket, sendgrid, smtp] = await createAll(tenant)
    const load = (id: string) => loadDestination(env, tenant.organizationId, id)
    expect((await load(hook?.json.id))?.config).toMatchObject({
      secret: SECRETS.webhook,
      previousSecrets: [],
      headers: { Authorization: SECRETS.header },
    })
    expect((await load(bucket?.json.id))?.config).toMatchObject({
      config: { accessKeyId: SECRETS.accessKeyId, secretAccessKey: SECRETS.secretAccessKey },
    })
    expect((await load(sendgrid?.json.id))?.config).toMatchObject({
      apiKey: SECRETS.apiKey,
      encryption: { enabled: true, key: SECRETS.encryptionKey },
    })
    expect((await load(smtp?.json.id))?.config).toMatchObject({
      config: { password: SECRETS.smtpPassword, username: 'audit' },
    })
  })
})

describe('POST /v1/destinations/{id}/rotate-secret', () => {
  it('Should show the new secret once and keep the old one signing for the grace period', async () => {
    const tenant = await createTenant()
    const [hook] = await createAll(tenant)
    const id = hook?.json.id as string
    const before = Date.now()
    const rotated = await call(`/v1/destinations/${id}/rotate-secret`, {
      method: 'POST',
      token: tenant.apiKey,
    })
    expect(rotated.status).toBe(200)
    const secret: string = rotated.json.config.webhook.secret
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(secret).not.toBe(SECRETS.webhook)
    expect(rotated.json.previousSecrets).toEqual([
      { secret: '****LaSw', expiresAt: expect.any(String) },
    ])
    const expiresAt = Date.parse(rotated.json.previousSecrets[0].expiresAt)
    const day = 24 * 3_600_000
    expect(expiresAt).toBeGreaterThanOrEqual(before + day)
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + day)

    const read = await call(`/v1/destinations/${id}`, { token: tenant.apiKey })
    expect(read.json.config.webhook.secret).toBe(`****${secret.slice(-4)}`)
    expect(read.json.previousSecrets).toEqual(rotated.json.previousSecrets)
    expect(read.text).not.toContain(secret.slice(6, -4))

    const loaded = await loadDestination(env, tenant.organizationId, id)
    expect(loaded?.config).toMatchObject({
      secret,
      previousSecrets: [
        { secret: SECRETS.webhook, expiresAt: rotated.json.previousSecrets[0].expiresAt },
      ],
    })
  })

  it("Should use the organization's graceHours and list every secret still in grace", async () => {
    const tenant = await createTenant()
    const settings = await call('/v1/settings', {
      method: 'PUT',
      token: tenant.apiKey,
      body: { security: { webhookSecrets: { graceHours: 2 } } },
    })
    expect(settings.status).toBe(200)
    const [hook] = await createAll(tenant)
    const path = `/v1/destinations/${hook?.json.id}/rotate-secret`
    const first = await call(path, { method: 'POST', token: tenant.apiKey })
    const second = await call(path, { method: 'POST', token: tenant.apiKey })
    const firstSecret: string = first.json.config.webhook.secret
    expect(second.json.previousSecrets).toEqual([
      { secret: `****${firstSecret.slice(-4)}`, expiresAt: expect.any(String) },
      { secret: '****LaSw', expiresAt: first.json.previousSecrets[0].expiresAt },
    ])
    const expiresAt = Date.parse(second.json.previousSecrets[0].expiresAt)
    expect(Math.abs(expiresAt - (Date.now() + 2 * 3_600_000))).toBeLessThan(60_000)
  })

  it('Should answer 422 for a destination that has no signing secret', async () => {
    const tenant = await createTenant()
    const [, bucket] = await createAll(tenant)
    const response = await call(`/v1/destinations/${bucket?.json.id}/rotate-secret`, {
      method: 'POST',
      token: tenant.apiKey,
    })
    expect(response.status).toBe(422)
    expect(response.json.error).toEqual({
      code: 'unprocessable',
      message: `Destination "${bucket?.json.id}" is a storage destination; only webhook destinations have a signing secret`,
      requestId: expect.any(String),
    })
  })

  it('Should audit the rotation with both secrets masked', async () => {
    const tenant = await createTenant()
    const [hook] = await createAll(tenant)
    const rotated = await call(`/v1/destinations/${hook?.json.id}/rotate-secret`, {
      method: 'POST',
      token: tenant.apiKey,
    })
    const audit = await call(`/v1/audit-log?resourceId=${hook?.json.id}&limit=1`, {
      token: tenant.apiKey,
    })
    const [entry] = audit.json.entries
    expect(entry.action).toBe('destination.secret_rotated')
    expect(entry.before.config.webhook.secret).toBe('****LaSw')
    const newSecret: string = rotated.json.config.webhook.secret
    expect(entry.after.config.webhook.secret).toBe(`****${newSecret.slice(-4)}`)
    expect(audit.text).not.toContain(newSecret.slice(6, -4))
  })
})
