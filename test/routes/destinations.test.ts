import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, createTenant } from '../support/api'

type Tenant = Awaited<ReturnType<typeof createTenant>>

const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'

function create(tenant: Tenant, body: Record<string, unknown>) {
  return call('/v1/destinations', { token: tenant.apiKey, body })
}

function webhook(label: string, extra: Record<string, unknown> = {}) {
  return {
    label,
    type: 'webhook',
    config: { webhook: { url: 'https://example.com/hook', ...extra } },
  }
}

describe('POST /v1/destinations', () => {
  it("Should create the seed's integration webhook and answer 201 with the secret masked", async () => {
    const tenant = await createTenant()
    const response = await create(tenant, {
      organizationId: tenant.organizationId,
      label: 'Hospital A - Integration Webhook',
      type: 'webhook',
      config: {
        webhook: {
          url: 'https://api.hospital-a.com/audit-webhook',
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Organization': 'hospital-a' },
          timeout: 30000,
          secret: WEBHOOK_SECRET,
        },
      },
    })
    expect(response.status).toBe(201)
    expect(response.json).toEqual({
      id: expect.stringMatching(/^dst_[a-z2-7]{20}$/),
      organizationId: tenant.organizationId,
      label: 'Hospital A - Integration Webhook',
      type: 'webhook',
      description: null,
      config: {
        webhook: {
          url: 'https://api.hospital-a.com/audit-webhook',
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Organization': 'hospital-a' },
          timeout: 30000,
          secret: '****LaSw',
        },
      },
      isDefault: false,
      disabled: false,
      disabledReason: null,
      delivery: { ordering: 'parallel', onExhausted: 'skip' },
      previousSecrets: [],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    })
    expect(response.text).not.toContain(WEBHOOK_SECRET.slice(6, -4))
  })

  it('Should generate a webhook secret when none is given and show it only on create', async () => {
    const tenant = await createTenant()
    const created = await create(tenant, webhook('Generated'))
    const secret: string = created.json.config.webhook.secret
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    const read = await call(`/v1/destinations/${created.json.id}`, { token: tenant.apiKey })
    expect(read.json.config.webhook.secret).toBe(`****${secret.slice(-4)}`)
    expect(read.text).not.toContain(secret.slice(6, -4))
  })

  it("Should create the seed's HIPAA S3 archive, its access keys masked", async () => {
    const tenant = await createTenant()
    const response = await create(tenant, {
      organizationId: tenant.organizationId,
      label: 'HIPAA Audit Archive',
      type: 'storage',
      description: '7-year retention for HIPAA compliance',
      config: {
        storage: {
          provider: 's3',
          config: {
            region: 'us-east-1',
            bucket: 'hipaa-audit-archive',
            serverSideEncryption: 'aws:kms',
            kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/hipaa',
            storageClass: 'STANDARD_IA',
            accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
            secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
          },
          path: '/audit-logs/{organizationId}/{year}/{month}/{day}/',
          retention: { days: 2555, autoCleanup: true },
        },
      },
    })
    expect(response.status).toBe(201)
    expect(response.json.description).toBe('7-year retention for HIPAA compliance')
    expect(response.json.config).toEqual({
      storage: {
        provider: 's3',
        config: {
          region: 'us-east-1',
          bucket: 'hipaa-audit-archive',
          serverSideEncryption: 'aws:kms',
          kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/hipaa',
          storageClass: 'STANDARD_IA',
          accessKeyId: '****MPLE',
          secretAccessKey: '****EKEY',
          forcePathStyle: true,
        },
        path: 'audit-logs/{organizationId}/{year}/{month}/{day}',
        retention: { days: 2555, autoCleanup: true },
      },
    })
    expect(response.text).not.toContain('wJalrXUtnFEMI')
    expect(response.text).not.toContain('AKIAIOSFODNN7')
  })

  it('Should refuse SES without keys unless the operator lends its own for that sender', async () => {
    const tenant = await createTenant()
    const response = await create(tenant, {
      label: 'Mail',
      type: 'email',
      config: {
        email: {
          service: 'ses',
          from: 'hipaa-audit@hospital.com',
          subject: 'Audit',
          recipients: ['a@hospital.com'],
        },
      },
    })
    expect(response.status).toBe(400)
    expect(response.json.error.details.issues).toEqual([
      {
        path: 'config.email.config.accessKeyId',
        message:
          'is required: sender "hipaa-audit@hospital.com" is not one the operator allows this organization to use with the service\'s own credentials',
      },
    ])
  })

  it("Should create the seed's compliance e-mail with encryption and show the generated key once", async () => {
    const tenant = await createTenant()
    // The seed relies on the Worker's own AWS keys, which the operator lends per sender
    // (ALLOWED_SHARED_SES_SENDERS); here the organization brings its own.
    const response = await create(tenant, {
      organizationId: tenant.organizationId,
      label: 'Compliance Officer Notifications',
      type: 'email',
      config: {
        email: {
          service: 'ses',
          config: {
            region: 'us-east-1',
            configurationSet: 'hipaa-compliant-emails',
            accessKeyId: 'AKIDEXAMPLE',
            secretAccessKey: 'tenant-own-secret-key',
          },
          from: 'hipaa-audit@hospital.com',
          subject: '[HIPAA] Audit Event Notification - {{eventType}}',
          bodyTemplate: 'Event Type: {{eventType}}\nPatient ID: {{patientId}}',
          recipients: ['compliance@hospital.com', 'privacy-officer@hospital.com'],
          encryption: { enabled: true, algorithm: 'AES-256-GCM' },
        },
      },
    })
    expect(response.status).toBe(201)
    const key: string = response.json.config.email.encryption.key
    expect(key).toMatch(/^[A-Za-z0-9+/]{43}=$/)
    expect(response.json.config.email).toEqual({
      service: 'ses',
      config: {
        region: 'us-east-1',
        configurationSet: 'hipaa-compliant-emails',
        accessKeyId: '****',
        secretAccessKey: '****-key',
      },
      from: 'hipaa-audit@hospital.com',
      subject: '[HIPAA] Audit Event Notification - {{eventType}}',
      bodyTemplate: 'Event Type: {{eventType}}\nPatient ID: {{patientId}}',
      recipients: ['compliance@hospital.com', 'privacy-officer@hospital.com'],
      encryption: { enabled: true, algorithm: 'AES-256-GCM', key },
    })
    const read = await call(`/v1/destinations/${response.json.id}`, { token: tenant.apiKey })
    expect(read.json.config.email.encryption).toEqual({
      enabled: true,
      algorithm: 'AES-256-GCM',
      key: `****${key.slice(-4)}`,
    })
  })

  it("Should create the seed's SendGrid e-mail with its API key masked", async () => {
    const tenant = await createTenant()
    const response = await create(tenant, {
      label: 'General Hospital A - Compliance Email',
      type: 'email',
      config: {
        email: {
          service: 'sendgrid',
          apiKey: 'SG.fake-sendgrid-key-0123456789',
          from: 'audit@hospital-a.com',
          subject: '[General Hospital A] Audit Notification - {{eventType}}',
          recipients: ['compliance@hospital-a.com'],
        },
      },
    })
    expect(response.status).toBe(201)
    expect(response.json.config.email.apiKey).toBe('****6789')
    expect(response.text).not.toContain('fake-sendgrid-key')
  })

  it('Should create an R2 storage destination and a download destination that notifies it', async () => {
    const tenant = await createTenant()
    const r2 = await create(tenant, {
      label: 'R2 archive',
      type: 'storage',
      config: { storage: { provider: 'r2', path: '{organizationId}/{type}/{deliveryId}' } },
    })
    expect(r2.status).toBe(201)
    expect(r2.json.config.storage).toEqual({
      provider: 'r2',
      config: {},
      path: '{organizationId}/{type}/{deliveryId}',
    })
    const hook = await create(tenant, webhook('Link receiver'))
    const download = await create(tenant, {
      label: 'Download links',
      type: 'download',
      config: {
        download: { expiresIn: 3600, maxDownloads: 3, notifyDestinationId: hook.json.id },
      },
      delivery: { ordering: 'strict', onExhausted: 'wait' },
    })
    expect(download.status).toBe(201)
    expect(download.json.config.download).toEqual({
      expiresIn: 3600,
      maxDownloads: 3,
      notifyDestinationId: hook.json.id,
    })
    expect(download.json.delivery).toEqual({ ordering: 'strict', onExhausted: 'wait' })
    expect(download.json.previousSecrets).toBeUndefined()
  })

  it('Should let the key omit organizationId and use its own organization', async () => {
    const tenant = await createTenant()
    const response = await create(tenant, webhook('No org given'))
    expect(response.json.organizationId).toBe(tenant.organizationId)
  })

  it('Should accept http to loopback under the development flag the tests run with', async () => {
    expect(env.ALLOW_LOOPBACK_DESTINATIONS).toBe('true')
    const tenant = await createTenant()
    const response = await create(tenant, {
      label: 'Local receiver',
      type: 'webhook',
      config: { webhook: { url: 'http://127.0.0.1:8788/hook' } },
    })
    expect(response.status).toBe(201)
    expect(response.json.config.webhook.url).toBe('http://127.0.0.1:8788/hook')
  })

  it('Should create a destination disabled or as a default when asked', async () => {
    const tenant = await createTenant()
    const response = await create(tenant, {
      ...webhook('Marked'),
      isDefault: true,
      disabled: true,
    })
    expect(response.json).toMatchObject({
      isDefault: true,
      disabled: true,
      disabledReason: 'disabled through the API',
    })
  })
})

describe('GET /v1/destinations', () => {
  it('Should page through destinations in creation order with nextCursor', async () => {
    const tenant = await createTenant()
    const ids: string[] = []
    for (const label of ['one', 'two', 'three', 'four', 'five']) {
      ids.push((await create(tenant, webhook(label))).json.id)
    }
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const query: string = cursor ? `&cursor=${cursor}` : ''
      const page = await call(`/v1/destinations?limit=2${query}`, { token: tenant.apiKey })
      expect(page.status).toBe(200)
      seen.push(...page.json.destinations.map((d: { id: string }) => d.id))
      cursor = page.json.nextCursor
      pages += 1
    } while (cursor)
    expect(seen).toEqual(ids)
    expect(pages).toBe(3)
  })

  it("Should list only the key's own organization's destinations", async () => {
    const a = await createTenant()
    const b = await createTenant()
    await create(a, webhook('Mine'))
    await create(b, webhook('Theirs'))
    const listed = await call('/v1/destinations', { token: a.apiKey })
    expect(listed.json.destinations.map((d: { label: string }) => d.label)).toEqual(['Mine'])
  })

  it('Should filter by type, label, disabled and isDefault', async () => {
    const tenant = await createTenant()
    await create(tenant, webhook('Plain'))
    await create(tenant, { ...webhook('Default hook'), isDefault: true })
    await create(tenant, { ...webhook('Off'), disabled: true })
    await create(tenant, {
      label: 'Bucket',
      type: 'storage',
      config: { storage: { provider: 'r2' } },
      isDefault: true,
    })
    const labels = async (query: string) => {
      const response = await call(`/v1/destinations?${query}`, { token: tenant.apiKey })
      expect(response.status).toBe(200)
      return response.json.destinations.map((d: { label: string }) => d.label)
    }
    expect(await labels('type=storage')).toEqual(['Bucket'])
    expect(await labels('type=webhook')).toEqual(['Plain', 'Default hook', 'Off'])
    expect(await labels('label=Off')).toEqual(['Off'])
    expect(await labels('disabled=true')).toEqual(['Off'])
    expect(await labels('disabled=false')).toEqual(['Plain', 'Default hook', 'Bucket'])
    expect(await labels('isDefault=true')).toEqual(['Default hook', 'Bucket'])
    expect(await labels('isDefault=true&type=webhook')).toEqual(['Default hook'])
    expect(await labels('label=Nothing')).toEqual([])
  })
})

describe('GET /v1/destinations/{id}', () => {
  it('Should read a destination as it was created, secrets masked', async () => {
    const tenant = await createTenant()
    const created = await create(tenant, webhook('Read me', { secret: WEBHOOK_SECRET }))
    const read = await call(`/v1/destinations/${created.json.id}`, { token: tenant.apiKey })
    expect(read.status).toBe(200)
    expect(read.json).toEqual(created.json)
  })

  it('Should answer 404 with the service error shape for an unknown id', async () => {
    const tenant = await createTenant()
    const read = await call('/v1/destinations/dst_aaaaaaaaaaaaaaaaaaaa', { token: tenant.apiKey })
    expect(read.status).toBe(404)
    expect(read.json).toEqual({
      error: {
        code: 'not_found',
        message: 'Destination "dst_aaaaaaaaaaaaaaaaaaaa" does not exist',
        requestId: expect.any(String),
      },
    })
  })
})

describe('DELETE /v1/destinations/{id}', () => {
  it('Should delete a destination so that it is gone from reads and lists', async () => {
    const tenant = await createTenant()
    const created = await create(tenant, webhook('Doomed'))
    const removed = await call(`/v1/destinations/${created.json.id}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(removed.status).toBe(200)
    expect(removed.json).toEqual({ id: created.json.id, deleted: true })
    const read = await call(`/v1/destinations/${created.json.id}`, { token: tenant.apiKey })
    expect(read.status).toBe(404)
    const listed = await call('/v1/destinations', { token: tenant.apiKey })
    expect(listed.json.destinations).toEqual([])
    const again = await call(`/v1/destinations/${created.json.id}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(again.status).toBe(404)
  })

  it('Should free the label of a deleted destination', async () => {
    const tenant = await createTenant()
    const first = await create(tenant, webhook('Reused'))
    await call(`/v1/destinations/${first.json.id}`, { method: 'DELETE', token: tenant.apiKey })
    const second = await create(tenant, webhook('Reused'))
    expect(second.status).toBe(201)
  })

  it('Should refuse to delete the destination that sends download links (409)', async () => {
    const tenant = await createTenant()
    const hook = await create(tenant, webhook('Links go here'))
    const download = await create(tenant, {
      label: 'Links',
      type: 'download',
      config: { download: { notifyDestinationId: hook.json.id } },
    })
    const refused = await call(`/v1/destinations/${hook.json.id}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(refused.status).toBe(409)
    expect(refused.json).toEqual({
      error: {
        code: 'conflict',
        message: `Destination "${hook.json.id}" sends the links of download destination ${download.json.id}; change its notifyDestinationId first`,
        details: { referencedBy: [download.json.id] },
        requestId: expect.any(String),
      },
    })
  })

  it("Should refuse to delete the organization's alert destination (409)", async () => {
    const tenant = await createTenant()
    const hook = await create(tenant, webhook('Alerts'))
    const settings = await call('/v1/settings', {
      method: 'PUT',
      token: tenant.apiKey,
      body: { security: { alertDestinationId: hook.json.id } },
    })
    expect(settings.status).toBe(200)
    const refused = await call(`/v1/destinations/${hook.json.id}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(refused.status).toBe(409)
    expect(refused.json.error).toEqual({
      code: 'conflict',
      message: `Destination "${hook.json.id}" receives the organization's operational events (settings security.alertDestinationId); choose another one first`,
      details: { referencedBy: ['settings.security.alertDestinationId'] },
      requestId: expect.any(String),
    })
  })

  it('Should refuse to delete a destination an alert rule watches or notifies, until the rule is gone (409)', async () => {
    const tenant = await createTenant()
    const watched = await create(tenant, webhook('Watched'))
    const pager = await create(tenant, webhook('Pager'))
    const rule = await call('/v1/alert-rules', {
      token: tenant.apiKey,
      body: {
        name: 'Slow partner',
        kind: 'latency',
        condition: { thresholdMs: 2000 },
        destinationId: watched.json.id,
        notify: [pager.json.id],
      },
    })
    expect(rule.status).toBe(201)
    for (const id of [watched.json.id, pager.json.id]) {
      const refused = await call(`/v1/destinations/${id}`, {
        method: 'DELETE',
        token: tenant.apiKey,
      })
      expect(refused.status).toBe(409)
      expect(refused.json.error).toEqual({
        code: 'conflict',
        message: `Destination "${id}" is used by alert rule ${rule.json.id}; change or delete the rule first`,
        details: { referencedBy: [rule.json.id] },
        requestId: expect.any(String),
      })
      const still = await call(`/v1/destinations/${id}`, { token: tenant.apiKey })
      expect(still.status).toBe(200)
    }
    const ruleGone = await call(`/v1/alert-rules/${rule.json.id}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(ruleGone.status).toBe(200)
    const removed = await call(`/v1/destinations/${pager.json.id}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(removed.status).toBe(200)
  })
})

describe('PUT and DELETE /v1/destinations/{id}/default', () => {
  it('Should mark and unmark a default, idempotently', async () => {
    const tenant = await createTenant()
    const created = await create(tenant, webhook('Maybe default'))
    const path = `/v1/destinations/${created.json.id}/default`
    const marked = await call(path, { method: 'PUT', token: tenant.apiKey })
    expect(marked.status).toBe(200)
    expect(marked.json.isDefault).toBe(true)
    expect((await call(path, { method: 'PUT', token: tenant.apiKey })).json.isDefault).toBe(true)
    const defaults = await call('/v1/destinations?isDefault=true', { token: tenant.apiKey })
    expect(defaults.json.destinations.map((d: { id: string }) => d.id)).toEqual([created.json.id])
    const unmarked = await call(path, { method: 'DELETE', token: tenant.apiKey })
    expect(unmarked.status).toBe(200)
    expect(unmarked.json.isDefault).toBe(false)
    const none = await call('/v1/destinations?isDefault=true', { token: tenant.apiKey })
    expect(none.json.destinations).toEqual([])
  })

  it('Should audit a change of the default flag once, not for a repeated PUT', async () => {
    const tenant = await createTenant()
    const created = await create(tenant, webhook('Audited default'))
    const path = `/v1/destinations/${created.json.id}/default`
    await call(path, { method: 'PUT', token: tenant.apiKey })
    await call(path, { method: 'PUT', token: tenant.apiKey })
    await call(path, { method: 'DELETE', token: tenant.apiKey })
    const audit = await call(`/v1/audit-log?resourceId=${created.json.id}`, {
      token: tenant.apiKey,
    })
    expect(audit.json.entries.map((e: { action: string }) => e.action)).toEqual([
      'destination.default_unset',
      'destination.default_set',
      'destination.created',
    ])
  })
})

describe('OpenAPI', () => {
  it('Should describe every destination and audit-log route from their schemas', async () => {
    const document = await call('/openapi.json')
    expect(document.status).toBe(200)
    const paths = document.json.paths
    expect(Object.keys(paths['/v1/destinations']).sort()).toEqual(['get', 'post'])
    expect(Object.keys(paths['/v1/destinations/{id}']).sort()).toEqual(['delete', 'get', 'patch'])
    expect(Object.keys(paths['/v1/destinations/{id}/rotate-secret'])).toEqual(['post'])
    expect(Object.keys(paths['/v1/destinations/{id}/default']).sort()).toEqual(['delete', 'put'])
    expect(Object.keys(paths['/v1/audit-log'])).toEqual(['get'])
    const schemas = document.json.components.schemas
    expect(schemas.CreateDestination.required).toEqual(['label', 'type', 'config'])
    expect(Object.keys(schemas.Destination.properties)).toContain('previousSecrets')
  })
})
