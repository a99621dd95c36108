import { call } from '../support/api'
import { createWebhookDestination, seedDelivery } from '../support/delivery-helpers'
import { describeSecurityCases, type Tenant } from '../support/security-cases'

async function createDelivery(tenant: Tenant): Promise<string> {
  const hook = await createWebhookDestination(tenant.apiKey)
  const accepted = await call('/v1/deliveries', {
    token: tenant.apiKey,
    body: seedDelivery(hook.id),
  })
  return accepted.json.deliveryId
}

describeSecurityCases('deliveries', {
  routes: [
    { method: 'POST', path: '/v1/deliveries', body: () => seedDelivery('default') },
    { method: 'GET', path: '/v1/deliveries' },
    { method: 'GET', path: '/v1/deliveries/{id}' },
    { method: 'GET', path: '/v1/deliveries/{id}/attempts' },
    { method: 'POST', path: '/v1/deliveries/{id}/retry' },
  ],
  createResource: createDelivery,
  readResource: async (tenant, id) => {
    const view = (await call(`/v1/deliveries/${id}`, { token: tenant.apiKey })).json
    return { deliveryId: view.deliveryId, sequence: view.sequence }
  },
  missingId: 'dlv_aaaaaaaaaaaaaaaaaaaa',
})

describeSecurityCases('destination recovery', {
  routes: [
    { method: 'GET', path: '/v1/destinations/{id}/health' },
    {
      method: 'POST',
      path: '/v1/destinations/{id}/recover',
      body: () => ({ since: '2026-01-01T00:00:00Z' }),
    },
    {
      method: 'POST',
      path: '/v1/destinations/{id}/replay',
      body: () => ({ since: '2026-01-01T00:00:00Z' }),
    },
  ],
  createResource: async (tenant) => (await createWebhookDestination(tenant.apiKey)).id,
  readResource: async (tenant, id) =>
    (await call(`/v1/destinations/${id}`, { token: tenant.apiKey })).json,
  missingId: 'dst_aaaaaaaaaaaaaaaaaaaa',
})
