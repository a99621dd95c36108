import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { CreateDestinationSchema } from '../../src/schemas/destination'
import { checkDestinationInput, sharedBuckets } from '../../src/services/destinations/input-checks'

/** The same deployment with the development flag off, as in production. */
const production = { ...env, ALLOW_LOOPBACK_DESTINATIONS: 'false' }

async function refusal(environment: typeof env, organizationId: string, body: unknown) {
  const input = CreateDestinationSchema.parse(body)
  try {
    await checkDestinationInput(environment, organizationId, input)
  } catch (error) {
    const { code, message, details } = error as { code: string; message: string; details: unknown }
    return { code, message, details }
  }
  return null
}

const email = (service: string, config: Record<string, unknown>, extra = {}) => ({
  label: 'Mail',
  type: 'email',
  config: {
    email: {
      service,
      config,
      from: 'audit@hospital.com',
      subject: 'Audit',
      recipients: ['compliance@hospital.com'],
      ...extra,
    },
  },
})

const issue = (path: string, message: string) => ({
  code: 'validation_error',
  message: `${path}: ${message}`,
  details: { issues: [{ path, message }] },
})

describe('destination input checks without the development flag', () => {
  it('Should refuse a loopback webhook and plain http', async () => {
    const body = {
      label: 'Local',
      type: 'webhook',
      config: { webhook: { url: 'http://127.0.0.1:8788/hook' } },
    }
    expect(await refusal(production, 'org-a', body)).toEqual(
      issue(
        'config.webhook.url',
        'must not point at loopback (127.0.0.1); loopback is allowed only under the development flag ALLOW_LOOPBACK_DESTINATIONS',
      ),
    )
    expect(await refusal(env, 'org-a', body)).toBeNull()
  })

  it('Should refuse an e-mail API endpoint override', async () => {
    const body = email('resend', { endpoint: 'http://127.0.0.1:9000' }, { apiKey: 're_123' })
    expect(await refusal(production, 'org-a', body)).toEqual(
      issue(
        'config.email.config.endpoint',
        'is allowed only under the development flag ALLOW_LOOPBACK_DESTINATIONS',
      ),
    )
    expect(await refusal(env, 'org-a', body)).toBeNull()
  })

  it('Should refuse SMTP without TLS and an SMTP host on loopback', async () => {
    const body = email('smtp', { host: 'localhost', port: 2525, secure: 'none' })
    expect(await refusal(production, 'org-a', body)).toEqual({
      code: 'validation_error',
      message:
        'config.email.config.host: must not point at loopback (localhost); loopback is allowed only under the development flag ALLOW_LOOPBACK_DESTINATIONS; config.email.config.secure: "none" (no TLS) is allowed only under the development flag ALLOW_LOOPBACK_DESTINATIONS',
      details: {
        issues: [
          {
            path: 'config.email.config.host',
            message:
              'must not point at loopback (localhost); loopback is allowed only under the development flag ALLOW_LOOPBACK_DESTINATIONS',
          },
          {
            path: 'config.email.config.secure',
            message:
              '"none" (no TLS) is allowed only under the development flag ALLOW_LOOPBACK_DESTINATIONS',
          },
        ],
      },
    })
    expect(await refusal(env, 'org-a', body)).toBeNull()
  })

  it('Should still refuse private addresses under the flag: it relaxes loopback only', async () => {
    const body = email('smtp', { host: '10.0.0.25', port: 465 })
    expect(await refusal(env, 'org-a', body)).toEqual(
      issue(
        'config.email.config.host',
        'must not point at a private address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) (10.0.0.25)',
      ),
    )
  })
})

describe('shared S3 buckets', () => {
  const bucket = (name: string) => ({
    label: 'Shared',
    type: 'storage',
    config: { storage: { provider: 's3', config: { bucket: name } } },
  })
  const operator = { ...env, ALLOWED_SHARED_BUCKETS: '{"org-a":["hipaa-audit-archive"]}' }

  it("Should let an organization use the operator's credentials only for its listed buckets", async () => {
    expect(await refusal(operator, 'org-a', bucket('hipaa-audit-archive'))).toBeNull()
    const message =
      'is required: bucket "hipaa-audit-archive" is not one the operator allows this organization to use with the service\'s own credentials'
    expect(await refusal(operator, 'org-b', bucket('hipaa-audit-archive'))).toEqual(
      issue('config.storage.config.accessKeyId', message),
    )
    expect(await refusal(operator, 'org-a', bucket('other-bucket'))).toEqual(
      issue(
        'config.storage.config.accessKeyId',
        message.replace('hipaa-audit-archive', 'other-bucket'),
      ),
    )
  })

  it('Should fail loudly on a malformed ALLOWED_SHARED_BUCKETS', () => {
    expect(() => sharedBuckets({ ALLOWED_SHARED_BUCKETS: '[' }, 'org-a')).toThrow(
      'configuration_error: ALLOWED_SHARED_BUCKETS is not valid JSON',
    )
    expect(() => sharedBuckets({ ALLOWED_SHARED_BUCKETS: '[]' }, 'org-a')).toThrow(
      'configuration_error: ALLOWED_SHARED_BUCKETS must be a JSON object',
    )
  })
})
