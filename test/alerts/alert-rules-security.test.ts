import { call } from '../support/api'
import { createWebhookDestination } from '../support/delivery-helpers'
import { describeSecurityCases, type Tenant } from '../support/security-cases'

async function createRule(tenant: Tenant): Promise<string> {
  const hook = await createWebhookDestination(tenant.apiKey)
  const created = await call('/v1/alert-rules', {
    token: tenant.apiKey,
    body: {
      name: 'Security rule',
      kind: 'consecutive_failures',
      condition: { threshold: 3 },
      notify: [hook.id],
    },
  })
  if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}`)
  return created.json.id
}

async function readRule(tenant: Tenant, id: string) {
  const read = await call(`/v1/alert-rules/${id}`, { token: tenant.apiKey })
  return { status: read.status, body: read.json }
}

describeSecurityCases('alert rules', {
  missingId: 'alr_aaaaaaaaaaaaaaaaaaaa',
  createResource: createRule,
  readResource: readRule,
  routes: [
    {
      method: 'POST',
      path: '/v1/alert-rules',
      body: () => ({
        name: 'New rule',
        kind: 'backlog_age',
        condition: { thresholdSeconds: 60 },
        notify: ['dst_aaaaaaaaaaaaaaaaaaaa'],
      }),
    },
    { method: 'GET', path: '/v1/alert-rules' },
    { method: 'GET', path: '/v1/alert-rules/{id}' },
    { method: 'PATCH', path: '/v1/alert-rules/{id}', body: () => ({ cooldownMinutes: 1 }) },
    { method: 'DELETE', path: '/v1/alert-rules/{id}' },
  ],
})
