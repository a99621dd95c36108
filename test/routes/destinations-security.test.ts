import { call } from '../support/api'
import { describeSecurityCases, type Tenant } from '../support/security-cases'

async function createWebhook(tenant: Tenant): Promise<string> {
  const created = await call('/v1/destinations', {
    token: tenant.apiKey,
    body: {
      label: 'Security hook',
      type: 'webhook',
      config: { webhook: { url: 'https://example.com/hook' } },
    },
  })
  if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}`)
  return created.json.id
}

async function readDestination(tenant: Tenant, id: string) {
  const read = await call(`/v1/destinations/${id}`, { token: tenant.apiKey })
  return { status: read.status, body: read.json }
}

describeSecurityCases('destinations', {
  missingId: 'dst_aaaaaaaaaaaaaaaaaaaa',
  createResource: createWebhook,
  readResource: readDestination,
  routes: [
    {
      method: 'POST',
      path: '/v1/destinations',
      body: () => ({
        label: 'New hook',
        type: 'webhook',
        config: { webhook: { url: 'https://example.com/new' } },
      }),
    },
    { method: 'GET', path: '/v1/destinations' },
    { method: 'GET', path: '/v1/destinations/{id}' },
    { method: 'PATCH', path: '/v1/destinations/{id}', body: () => ({ description: 'changed' }) },
    { method: 'DELETE', path: '/v1/destinations/{id}' },
    { method: 'POST', path: '/v1/destinations/{id}/rotate-secret' },
    { method: 'PUT', path: '/v1/destinations/{id}/default' },
    { method: 'DELETE', path: '/v1/destinations/{id}/default' },
  ],
})
