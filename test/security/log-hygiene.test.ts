/**
 * Logs never carry secrets or payloads. Every console method is captured while a full flow
 * runs (tenant and key, webhook, S3 and e-mail destinations with credentials, deliveries
 * with a failure and a retry, a secret rotation, validation errors), then the captured text
 * is searched for every secret, key and payload value involved.
 */
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ADMIN_TOKEN, call, createTenant } from '../support/api'
import {
  createWebhookDestination,
  injectFault,
  WEBHOOK_SECRET,
  waitForDelivery,
} from '../support/delivery-helpers'
import { peers, uniqueRecipient } from '../support/peers'
import { putSettings } from '../support/reliability'

afterEach(() => {
  vi.restoreAllMocks()
})

function captureConsole(): () => string {
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const
  const spies = methods.map((method) => vi.spyOn(console, method))
  return () =>
    spies
      .flatMap((spy) => spy.mock.calls)
      .map((args) =>
        args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '),
      )
      .join('\n')
}

describe('log hygiene', () => {
  it('Should log no secret, key or payload value during a full delivery flow', async () => {
    const logs = captureConsole()
    const p = peers()
    const tenant = await createTenant('logs')
    await putSettings(tenant.apiKey, { retry: { maxAttempts: 3, baseDelay: 100, maxDelay: 100 } })

    const partnerToken = 'Bearer partner-token-6f1d2c9a7b'
    const hook = await createWebhookDestination(tenant.apiKey)
    const patched = await call(`/v1/destinations/${hook.id}`, {
      method: 'PATCH',
      token: tenant.apiKey,
      body: { config: { webhook: { headers: { Authorization: partnerToken } } } },
    })
    expect(patched.status).toBe(200)
    await injectFault(hook.path, { mode: 'status', status: 500, body: 'upstream broke' })
    const bucket = await call('/v1/destinations', {
      token: tenant.apiKey,
      body: {
        label: 'Archive',
        type: 'storage',
        config: {
          storage: {
            provider: 's3',
            path: '{organizationId}/logs-test',
            config: {
              bucket: 'audit-archive',
              endpoint: p.s3.url,
              accessKeyId: p.s3.accessKeyId,
              secretAccessKey: p.s3.secretAccessKey,
            },
          },
        },
      },
    })
    expect(bucket.status).toBe(201)
    const recipient = uniqueRecipient('officer')
    const mail = await call('/v1/destinations', {
      token: tenant.apiKey,
      body: {
        label: 'Officer',
        type: 'email',
        config: {
          email: {
            service: 'sendgrid',
            apiKey: p.sendgrid.apiKey,
            config: { endpoint: p.sendgrid.url },
            from: 'audit@hospital.test',
            recipients: [recipient],
            subject: 'Audit {{eventType}} for {{patientId}}',
            encryption: { enabled: true },
          },
        },
      },
    })
    expect(mail.status).toBe(201)
    const attachmentKey = mail.json.config.email.encryption.key as string

    const payload = {
      patientId: 'PATIENT-7731-XQ',
      ssn: '078-05-1120',
      note: 'diagnosis: confidential-marker-93',
    }
    const accepted = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: {
        destinations: [hook.id, bucket.json.id, mail.json.id],
        payload: { type: 'phi-access', data: payload, metadata: { eventType: 'phi-access' } },
        options: { correlationId: 'corr-logs', idempotencyKey: 'idem-logs-1' },
      },
    })
    expect(accepted.status).toBe(202)
    const view = await waitForDelivery(tenant.apiKey, accepted.json.deliveryId)
    expect(view.status).toBe('delivered')

    const rotated = await call(`/v1/destinations/${hook.id}/rotate-secret`, {
      method: 'POST',
      token: tenant.apiKey,
    })
    const newSecret = rotated.json.config.webhook.secret as string
    const again = await call('/v1/deliveries', {
      token: tenant.apiKey,
      body: { destinations: [hook.id], payload: { type: 'phi-access', data: payload } },
    })
    await waitForDelivery(tenant.apiKey, again.json.deliveryId)
    // Refused requests log too: a bad body that carries a secret and a payload value.
    const refused = await call('/v1/destinations', {
      token: tenant.apiKey,
      body: { label: payload.ssn, type: 'webhook', config: { webhook: { secret: newSecret } } },
    })
    expect(refused.status).toBe(400)

    const text = logs()
    // The capture works: batches were summed up, and the injected 500 was logged with its ids.
    expect(text).toContain('"event":"delivery_batch"')
    expect(text).toContain(accepted.json.deliveryId)
    const keyMaterial = (env.ENCRYPTION_KEYS as string)
      .split(',')
      .map((entry) => entry.split(':')[1])
    const secrets = {
      apiKey: tenant.apiKey,
      adminToken: ADMIN_TOKEN,
      webhookSecret: WEBHOOK_SECRET,
      rotatedSecret: newSecret,
      partnerToken,
      s3SecretAccessKey: p.s3.secretAccessKey,
      sendgridApiKey: p.sendgrid.apiKey,
      attachmentKey,
      ...Object.fromEntries(keyMaterial.map((key, index) => [`encryptionKey${index}`, key])),
      ...payload,
    }
    const leaked = Object.entries(secrets).filter(
      ([, value]) => value && text.includes(value as string),
    )
    expect(leaked).toEqual([])
  }, 60_000)
})
