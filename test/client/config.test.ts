import { describe, expect, it } from 'vitest'
import { createTenant } from '../support/api'
import { createWebhookDestination } from '../support/delivery-helpers'
import { type RecordedCall, serviceClient } from './harness'

const settingsCalls = (calls: RecordedCall[]) =>
  calls.filter((call) => call.path.startsWith('/v1/settings')).map((call) => call.method)

describe('client: config applied to the organization settings', () => {
  it("Should merge the seed's retry and security config into the settings once, before the first call", async () => {
    const tenant = await createTenant()
    await serviceClient({ apiKey: tenant.apiKey }).updateSettings({
      limits: { ingestPerSecond: 50 },
    })
    const hook = await createWebhookDestination(tenant.apiKey)

    const calls: RecordedCall[] = []
    const client = serviceClient(
      {
        apiKey: tenant.apiKey,
        config: {
          retry: { maxAttempts: 10, baseDelay: 2000, maxDelay: 300000 },
          security: { encryption: { enabled: true }, webhookSecrets: { graceHours: 48 } },
        },
      },
      calls,
    )
    await client.deliver({ destinations: hook.id, payload: { type: 'audit', data: { n: 1 } } })
    await client.deliver({ destinations: hook.id, payload: { type: 'audit', data: { n: 2 } } })
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      'GET /v1/settings',
      'PUT /v1/settings',
      'POST /v1/deliveries',
      'POST /v1/deliveries',
    ])

    const settings = await client.getSettings()
    expect(settings.retry).toEqual({ maxAttempts: 10, baseDelay: 2000, maxDelay: 300000 })
    expect(settings.security.webhookSecrets).toEqual({ rotationDays: 0, graceHours: 48 })
    expect(settings.security.encryption).toEqual({ enabled: true })
    // What the config does not name keeps its current value.
    expect(settings.limits.ingestPerSecond).toBe(50)
  })

  it('Should apply the config once per organization of a multi-tenant client', async () => {
    const first = await createTenant('first')
    const second = await createTenant('second')
    const calls: RecordedCall[] = []
    const client = serviceClient(
      {
        apiKeys: { [first.organizationId]: first.apiKey, [second.organizationId]: second.apiKey },
        config: { retry: { maxAttempts: 7 } },
      },
      calls,
    )
    for (const organizationId of [
      first.organizationId,
      second.organizationId,
      first.organizationId,
    ])
      await client.listDestinations({ organizationId })
    expect(settingsCalls(calls)).toEqual(['GET', 'PUT', 'GET', 'PUT'])
    expect(
      (await client.getSettings({ organizationId: second.organizationId })).retry.maxAttempts,
    ).toBe(7)
  })

  it('Should fail the call when the service refuses the config, and try again on the next call', async () => {
    const tenant = await createTenant()
    const calls: RecordedCall[] = []
    // The seed's 30-day rotation needs a destination that receives the new secrets.
    const client = serviceClient(
      { apiKey: tenant.apiKey, config: { security: { webhookSecrets: { rotationDays: 30 } } } },
      calls,
    )
    const refusal = {
      status: 400,
      code: 'validation_error',
      message:
        'security.alertDestinationId: is required when security.webhookSecrets.rotationDays is above 0',
      details: {
        issues: [
          {
            path: 'security.alertDestinationId',
            message: 'is required when security.webhookSecrets.rotationDays is above 0',
          },
        ],
      },
    }
    await expect(client.listDestinations()).rejects.toMatchObject(refusal)
    await expect(client.listDestinations()).rejects.toMatchObject(refusal)
    expect(settingsCalls(calls)).toEqual(['GET', 'PUT', 'GET', 'PUT'])
    expect(calls.some((call) => call.path.startsWith('/v1/destinations'))).toBe(false)
  })
})
