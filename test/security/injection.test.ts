import { describe, expect, it } from 'vitest'
import { call, createTenant } from '../support/api'
import {
  createWebhookDestination,
  injectFault,
  receivedAt,
  seedDelivery,
  waitForDelivery,
} from '../support/delivery-helpers'
import { peers } from '../support/peers'
import { putSettings } from '../support/reliability'

type Tenant = Awaited<ReturnType<typeof createTenant>>
type Issue = { path: string; message: string }

const webhook = (config: Record<string, unknown>) => ({
  label: 'Hook',
  type: 'webhook',
  config: { webhook: { url: 'https://example.com/hook', ...config } },
})

const email = (service: string, fields: Record<string, unknown>, config = {}) => ({
  label: 'Mail',
  type: 'email',
  config: {
    email: {
      service,
      from: 'audit@hospital.com',
      subject: 'Audit {{eventType}}',
      recipients: ['compliance@hospital.com'],
      ...(service === 'sendgrid' || service === 'resend' || service === 'postmark'
        ? { apiKey: 'SG.key' }
        : {}),
      ...fields,
      // SES brings its own keys: the Worker's are lent only to senders the operator lists.
      config:
        service === 'ses' ? { accessKeyId: 'AKIA', secretAccessKey: 'secret', ...config } : config,
    },
  },
})

const s3 = (config: Record<string, unknown>) => ({
  label: 'Bucket',
  type: 'storage',
  config: {
    storage: {
      provider: 's3',
      config: {
        bucket: 'audit-archive',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        ...config,
      },
    },
  },
})

/** Every field a tenant sets that ends up in a header or an e-mail header, with a value builder. */
const HEADER_FIELDS: Array<[string, (value: string) => unknown]> = [
  ['config.webhook.headers.X-Partner', (v) => webhook({ headers: { 'X-Partner': v } })],
  ['config.webhook.headers.Authorization', (v) => webhook({ headers: { Authorization: v } })],
  ['config.email.from', (v) => email('ses', { from: `audit${v}@hospital.com` })],
  ['config.email.subject', (v) => email('ses', { subject: `Audit${v}` })],
  ['config.email.recipients[0]', (v) => email('ses', { recipients: [`a${v}@hospital.com`] })],
  ['config.email.apiKey', (v) => email('sendgrid', { apiKey: `SG.${v}` })],
  ['config.email.apiKey', (v) => email('postmark', { apiKey: `pm-${v}` })],
  [
    'config.email.config.accessKeyId',
    (v) => email('ses', {}, { accessKeyId: `AKIA${v}`, secretAccessKey: 'secret' }),
  ],
  [
    'config.email.config.secretAccessKey',
    (v) => email('ses', {}, { accessKeyId: 'AKIA', secretAccessKey: `s${v}` }),
  ],
  ['config.email.config.configurationSet', (v) => email('ses', {}, { configurationSet: `c${v}` })],
  [
    'config.email.config.username',
    (v) => email('smtp', {}, { host: 'smtp.example.com', username: `u${v}`, password: 'p' }),
  ],
  [
    'config.email.config.password',
    (v) => email('smtp', {}, { host: 'smtp.example.com', username: 'u', password: `p${v}` }),
  ],
  ['config.storage.config.accessKeyId', (v) => s3({ accessKeyId: `AKIA${v}` })],
  ['config.storage.config.secretAccessKey', (v) => s3({ secretAccessKey: `s${v}` })],
  [
    'config.storage.config.kmsKeyId',
    (v) => s3({ serverSideEncryption: 'aws:kms', kmsKeyId: `key${v}X-Amz-Evil: 1` }),
  ],
]

const LINE_BREAKS = ['\r\n', '\n', '\r']

async function expectRefused(tenant: Tenant, body: unknown, path: string) {
  const response = await call('/v1/destinations', { token: tenant.apiKey, body })
  expect(response.status, `${path} ${JSON.stringify(body)}`).toBe(400)
  expect(response.json.error.code).toBe('validation_error')
  expect(response.json.error.details.issues.map((issue: Issue) => issue.path)).toContain(path)
}

describe('header injection: CR and LF never reach a header', () => {
  for (const [path, build] of HEADER_FIELDS) {
    it(`Should refuse CR, LF and CRLF in ${path}`, async () => {
      const tenant = await createTenant('inject')
      for (const breakChars of LINE_BREAKS) await expectRefused(tenant, build(breakChars), path)
      // The same value without the line break is accepted, so the refusal is about CR and LF.
      const clean = await call('/v1/destinations', { token: tenant.apiKey, body: build('-') })
      expect(clean.status, clean.text).toBe(201)
    })
  }

  it('Should refuse CR and LF brought in by a PATCH, and leave the destination as it was', async () => {
    const tenant = await createTenant('inject')
    const created = await call('/v1/destinations', {
      token: tenant.apiKey,
      body: email('ses', {}),
    })
    expect(created.status).toBe(201)
    const patched = await call(`/v1/destinations/${created.json.id}`, {
      method: 'PATCH',
      token: tenant.apiKey,
      body: { config: { email: { subject: 'Hi\r\nBcc: everyone@example.com' } } },
    })
    expect(patched.status).toBe(400)
    expect(patched.json.error.details.issues).toEqual([
      { path: 'config.email.subject', message: 'must not contain CR or LF' },
    ])
    const read = await call(`/v1/destinations/${created.json.id}`, { token: tenant.apiKey })
    expect(read.json).toEqual(created.json)
  })
})

describe('reserved headers', () => {
  it('Should refuse every header the service sets itself, in any letter case', async () => {
    const tenant = await createTenant('inject')
    for (const name of [
      'webhook-id',
      'Webhook-Timestamp',
      'WEBHOOK-SIGNATURE',
      'Host',
      'content-length',
      'Transfer-Encoding',
      'Connection',
    ]) {
      await expectRefused(
        tenant,
        webhook({ headers: { [name]: 'forged' } }),
        `config.webhook.headers.${name}`,
      )
    }
    expect((await call('/v1/destinations', { token: tenant.apiKey })).json.destinations).toEqual([])
  })
})

describe('address guard on every field that makes the service connect somewhere', () => {
  /** Hostile hosts, in the spellings of the outside check, as URL hosts and as bare SMTP hosts. */
  const HOSTS: Array<[string, string]> = [
    ['169.254.169.254', '169.254.169.254'],
    ['10.0.0.8', '10.0.0.8'],
    ['192.168.1.1', '192.168.1.1'],
    ['172.16.5.4', '172.16.5.4'],
    ['[::ffff:10.0.0.1]', '::ffff:10.0.0.1'],
    ['[::ffff:a9fe:a9fe]', '::ffff:a9fe:a9fe'],
    ['0x0a000001', '0x0a000001'],
    ['167772161', '167772161'],
    ['012.0.0.1', '012.0.0.1'],
    ['100.64.0.1', '100.64.0.1'],
    ['metadata.google.internal', 'metadata.google.internal'],
    ['[fd00::1]', 'fd00::1'],
    ['[fe80::1]', 'fe80::1'],
    ['224.0.0.1', '224.0.0.1'],
    ['db.internal', 'db.internal'],
  ]

  for (const [urlHost, bareHost] of HOSTS) {
    it(`Should refuse ${bareHost} as a webhook URL, an S3 endpoint, an e-mail API endpoint and an SMTP host`, async () => {
      const tenant = await createTenant('ssrf')
      await expectRefused(tenant, webhook({ url: `https://${urlHost}/h` }), 'config.webhook.url')
      await expectRefused(
        tenant,
        s3({ endpoint: `https://${urlHost}` }),
        'config.storage.config.endpoint',
      )
      await expectRefused(
        tenant,
        email('sendgrid', {}, { endpoint: `https://${urlHost}/v3` }),
        'config.email.config.endpoint',
      )
      await expectRefused(
        tenant,
        email('smtp', {}, { host: bareHost, port: 465 }),
        'config.email.config.host',
      )
      expect((await call('/v1/destinations', { token: tenant.apiKey })).json.destinations).toEqual(
        [],
      )
    })
  }
})

describe('redirects', () => {
  it('Should never follow a redirect, even to an address the receiver would accept', async () => {
    const tenant = await createTenant('redirect')
    await putSettings(tenant.apiKey, { retry: { maxAttempts: 2, baseDelay: 100, maxDelay: 100 } })
    const hook = await createWebhookDestination(tenant.apiKey)
    const elsewhere = `${hook.path}-elsewhere`
    const location = `${peers().webhook.url}${elsewhere}`
    await injectFault(hook.path, { mode: 'redirect', status: 307, location, times: 2 })

    const accepted = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: seedDelivery(hook.id),
    })
    const view = await waitForDelivery(tenant.apiKey, accepted.json.deliveryId)
    expect(view.destinations[0]).toMatchObject({
      status: 'failed',
      attempts: 2,
      lastError: {
        code: 'redirect',
        httpStatus: 307,
        message: `Receiver answered 307 redirecting to ${location}; redirects are not followed`,
      },
    })
    expect((await receivedAt(hook.path)).map((r) => r.status)).toEqual([307, 307])
    expect(await receivedAt(elsewhere)).toEqual([])
  })
})
