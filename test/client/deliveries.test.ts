import { describe, expect, it } from 'vitest'
import { createTenant } from '../support/api'
import { createWebhookDestination, receivedAt } from '../support/delivery-helpers'
import { serviceClient, tenantClient } from './harness'

const payload = {
  type: 'phi-access-audit',
  data: { patientId: 'P-1001', userId: 'dr.smith', action: 'read' },
  metadata: { eventType: 'phi-access' },
}

describe('client: deliveries', () => {
  it('Should deliver, wait until delivered, and read the status, attempts and list', async () => {
    const { client, organizationId, apiKey } = await tenantClient()
    const hook = await createWebhookDestination(apiKey)
    const receipt = await client.deliver({
      organizationId,
      destinations: [hook.id],
      payload,
      options: { priority: 8, correlationId: 'dr.smith', tags: ['hipaa', 'phi-access'] },
    })
    expect(receipt).toEqual({
      deliveryId: expect.stringMatching(/^dlv_/),
      organizationId,
      sequence: 1,
      status: 'queued',
      acceptedAt: expect.any(String),
      destinations: [
        { destinationId: hook.id, label: `hook ${hook.path}`, type: 'webhook', status: 'queued' },
      ],
      replayed: false,
    })

    const delivery = await client.waitForDelivery(receipt.deliveryId, { intervalMs: 50 })
    expect(delivery).toMatchObject({
      deliveryId: receipt.deliveryId,
      status: 'delivered',
      payloadType: 'phi-access-audit',
      priority: 8,
      correlationId: 'dr.smith',
      tags: ['hipaa', 'phi-access'],
      destinations: [{ destinationId: hook.id, status: 'delivered', attempts: 1 }],
    })
    const [request] = await receivedAt(hook.path)
    expect(request.headers['webhook-id']).toBe(delivery.destinations[0]?.messageId)

    const attempts = await client.getDeliveryAttempts(receipt.deliveryId)
    expect(attempts).toEqual([
      expect.objectContaining({
        deliveryId: receipt.deliveryId,
        destinationId: hook.id,
        attempt: 1,
        outcome: 'delivered',
        error: null,
      }),
    ])
    const page = await client.listDeliveries({ correlationId: 'dr.smith', status: 'delivered' })
    expect(page.deliveries.map((each) => each.deliveryId)).toEqual([receipt.deliveryId])
    expect(page.nextCursor).toBeNull()
  })

  it('Should mark a repeat with the same idempotency key as replayed, with the original receipt', async () => {
    const { client, apiKey } = await tenantClient()
    const hook = await createWebhookDestination(apiKey)
    const input = { destinations: hook.id, payload, options: { idempotencyKey: 'access-P-1001-1' } }
    const first = await client.deliver(input)
    const again = await client.deliver(input)
    expect(first.replayed).toBe(false)
    expect(again).toEqual({ ...first, replayed: true })
  })

  it('Should answer 409 nothing_to_retry for a delivery that did not fail', async () => {
    const { client, apiKey } = await tenantClient()
    const hook = await createWebhookDestination(apiKey)
    const receipt = await client.deliver({ destinations: hook.id, payload })
    await client.waitForDelivery(receipt.deliveryId, { intervalMs: 50 })
    await expect(client.retryDelivery(receipt.deliveryId)).rejects.toMatchObject({
      status: 409,
      code: 'nothing_to_retry',
      message: `Delivery "${receipt.deliveryId}" has no failed destination to retry`,
      requestId: expect.stringMatching(/^req_/),
    })
  })

  it('Should accept a batch item by item, rejecting an unknown destination by its path', async () => {
    const { client, apiKey } = await tenantClient()
    const hook = await createWebhookDestination(apiKey)
    const result = await client.deliverBatch([
      { destinations: hook.id, payload },
      { destinations: 'no-such-destination', payload },
    ])
    expect(result.results).toEqual([
      { index: 0, status: 'accepted', deliveryId: expect.stringMatching(/^dlv_/), sequence: 1 },
      {
        index: 1,
        status: 'rejected',
        error: expect.objectContaining({ code: 'destination_not_found' }),
      },
    ])
  })

  it('Should serve several tenants from one client, choosing the key by organizationId', async () => {
    const hospital = await createTenant('hospital')
    const clinic = await createTenant('clinic')
    const client = serviceClient({
      apiKeys: {
        [hospital.organizationId]: hospital.apiKey,
        [clinic.organizationId]: clinic.apiKey,
      },
    })
    const hospitalHook = await createWebhookDestination(hospital.apiKey)
    const clinicHook = await createWebhookDestination(clinic.apiKey)

    const atHospital = await client.deliver({
      organizationId: hospital.organizationId,
      destinations: hospitalHook.id,
      payload,
    })
    const atClinic = await client.deliver({
      organizationId: clinic.organizationId,
      destinations: clinicHook.id,
      payload,
    })
    expect(atHospital.organizationId).toBe(hospital.organizationId)
    expect(atClinic.organizationId).toBe(clinic.organizationId)

    const hospitalList = await client.listDestinations({ organizationId: hospital.organizationId })
    expect(hospitalList.destinations.map((each) => each.id)).toEqual([hospitalHook.id])
    // The clinic's key cannot see the hospital's delivery.
    await expect(
      client.getDeliveryStatus(atHospital.deliveryId, { organizationId: clinic.organizationId }),
    ).rejects.toMatchObject({ status: 404, code: 'not_found' })
    // Without an organizationId the client cannot tell which key to use.
    await expect(client.listDestinations()).rejects.toMatchObject({
      status: 0,
      code: 'missing_organization',
      message: 'organizationId is required: this client holds keys for several organizations',
    })
    await expect(
      client.deliverBatch([
        { organizationId: hospital.organizationId, destinations: hospitalHook.id, payload },
        { organizationId: clinic.organizationId, destinations: clinicHook.id, payload },
      ]),
    ).rejects.toMatchObject({ status: 0, code: 'mixed_organizations' })
  })
})
