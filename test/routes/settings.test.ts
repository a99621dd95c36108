import { describe, expect, it } from 'vitest'
import { call, createTenant } from '../support/api'
import { describeSecurityCases } from '../support/security-cases'

describe('organization settings', () => {
  it('answers the documented defaults for a new organization', async () => {
    const tenant = await createTenant()
    const response = await call('/v1/settings', { token: tenant.apiKey })
    expect(response.status).toBe(200)
    expect(response.json).toEqual({
      organizationId: tenant.organizationId,
      settings: {
        retry: { maxAttempts: 5, baseDelay: 1000, maxDelay: 300000 },
        security: {
          webhookSecrets: { rotationDays: 0, graceHours: 24 },
          encryption: { enabled: true },
          organizationIsolation: true,
          accessControl: { enabled: true },
          alertDestinationId: null,
        },
        health: { failureThreshold: 5, cooldownMs: 60000, disableAfterHours: 120 },
        limits: {
          ingestPerSecond: 1000,
          ingestBurst: 5000,
          maxInFlightPerDestination: 50,
          idempotencyTtlHours: 24,
          retentionDays: 90,
        },
      },
    })
  })

  it('replaces settings, filling what is left out with defaults, and audits the change', async () => {
    const tenant = await createTenant()
    const put = await call('/v1/settings', {
      method: 'PUT',
      token: tenant.apiKey,
      body: {
        retry: { maxAttempts: 10, baseDelay: 2000, maxDelay: 300000 },
        security: { encryption: { enabled: true } },
      },
    })
    expect(put.status).toBe(200)
    expect(put.json.settings.retry).toEqual({ maxAttempts: 10, baseDelay: 2000, maxDelay: 300000 })
    expect(put.json.settings.limits.retentionDays).toBe(90)
    expect((await call('/v1/settings', { token: tenant.apiKey })).json).toEqual(put.json)
    const audit = await call('/v1/audit-log?resourceType=settings', { token: tenant.apiKey })
    expect(audit.json.entries ?? audit.json.auditLog ?? audit.json.items).toEqual([
      expect.objectContaining({ action: 'settings.replaced', resourceId: tenant.organizationId }),
    ])
  })

  it('names each field out of range and changes nothing', async () => {
    const tenant = await createTenant()
    const response = await call('/v1/settings', {
      method: 'PUT',
      token: tenant.apiKey,
      body: { retry: { maxAttempts: 101, baseDelay: 5000, maxDelay: 1000 }, limits: { bogus: 1 } },
    })
    expect(response.status).toBe(400)
    expect(response.json.error.details.issues).toEqual([
      { path: 'retry.maxAttempts', message: 'Too big: expected number to be <=100' },
      { path: 'retry.maxDelay', message: 'maxDelay must be at least baseDelay' },
      { path: 'limits', message: 'Unrecognized key: "bogus"' },
    ])
    expect(
      (await call('/v1/settings', { token: tenant.apiKey })).json.settings.retry.maxAttempts,
    ).toBe(5)
  })

  it('refuses automatic secret rotation without an alert destination', async () => {
    const tenant = await createTenant()
    const response = await call('/v1/settings', {
      method: 'PUT',
      token: tenant.apiKey,
      body: { security: { webhookSecrets: { rotationDays: 30 } } },
    })
    expect(response.status).toBe(400)
    expect(response.json.error.details.issues).toEqual([
      {
        path: 'security.alertDestinationId',
        message: 'is required when security.webhookSecrets.rotationDays is above 0',
      },
    ])
    const unknown = await call('/v1/settings', {
      method: 'PUT',
      token: tenant.apiKey,
      body: {
        security: {
          webhookSecrets: { rotationDays: 30 },
          alertDestinationId: 'dst_aaaaaaaaaaaaaaaaaaaa',
        },
      },
    })
    expect(unknown.json.error.details.issues).toEqual([
      {
        path: 'security.alertDestinationId',
        message: 'destination "dst_aaaaaaaaaaaaaaaaaaaa" does not exist',
      },
    ])
  })
})

describeSecurityCases('settings', {
  routes: [
    { method: 'GET', path: '/v1/settings' },
    { method: 'PUT', path: '/v1/settings', body: () => ({}) },
  ],
  missingId: 'unused',
})
