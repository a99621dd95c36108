import { describe, expect, it } from 'vitest'
import { DeliveryServiceError } from '../../src/client/index.ts'
import { createWebhookDestination, receivedAt, WEBHOOK_SECRET } from '../support/delivery-helpers'
import { peers } from '../support/peers'
import { SERVICE_URL, tenantClient, workerFetch } from './harness'

const hookUrl = (name: string) =>
  `${peers().webhook.url}/hooks/client-${name}-${crypto.randomUUID()}`

describe('client: destinations', () => {
  it('Should create, read, list by label, update and delete a destination', async () => {
    const { client, organizationId } = await tenantClient()
    const url = hookUrl('crud')
    const created = await client.createDestination({
      organizationId,
      label: 'Integration Webhook',
      type: 'webhook',
      config: { webhook: { url, secret: WEBHOOK_SECRET } },
    })
    expect(created).toMatchObject({
      id: expect.stringMatching(/^dst_/),
      organizationId,
      label: 'Integration Webhook',
      type: 'webhook',
      config: { webhook: { url, method: 'POST', timeout: 10_000, secret: '****LaSw' } },
      isDefault: false,
    })

    expect(await client.getDestination(created.id)).toEqual(created)
    expect(await client.findDestinationByLabel('Integration Webhook')).toEqual(created)
    expect(await client.findDestinationByLabel('No such label')).toBeNull()

    const updated = await client.updateDestination(created.id, {
      description: 'Routes audit events to the EHR',
      config: { webhook: { timeout: 5000 } },
    })
    expect(updated.description).toBe('Routes audit events to the EHR')
    expect(updated.config).toEqual({
      webhook: { url, method: 'POST', headers: {}, timeout: 5000, secret: '****LaSw' },
    })

    expect(await client.deleteDestination(created.id)).toEqual({ id: created.id, deleted: true })
    const gone = await client.getDestination(created.id).catch((error: unknown) => error)
    expect(gone).toBeInstanceOf(DeliveryServiceError)
    expect(gone).toMatchObject({
      status: 404,
      code: 'not_found',
      message: `Destination "${created.id}" does not exist`,
    })
  })

  it('Should page through listDestinations with filters and nextCursor', async () => {
    const { client } = await tenantClient()
    for (const name of ['a', 'b', 'c'])
      await client.createDestination({
        label: `hook ${name}`,
        type: 'webhook',
        config: { webhook: { url: hookUrl(name) } },
        isDefault: name !== 'b',
      })
    const first = await client.listDestinations({ limit: 2 })
    expect(first.destinations.map((each) => each.label)).toEqual(['hook a', 'hook b'])
    expect(first.nextCursor).toEqual(expect.any(String))
    const second = await client.listDestinations({ limit: 2, cursor: first.nextCursor ?? '' })
    expect(second.destinations.map((each) => each.label)).toEqual(['hook c'])
    expect(second.nextCursor).toBeNull()

    const defaults = await client.listDestinations({ isDefault: true })
    expect(defaults.destinations.map((each) => each.label)).toEqual(['hook a', 'hook c'])
    const others = await client.listDestinations({ isDefault: false, type: 'webhook' })
    expect(others.destinations.map((each) => each.label)).toEqual(['hook b'])
  })

  it('Should set and unset a default destination for an organization', async () => {
    const { client, organizationId } = await tenantClient()
    const destination = await client.createDestination({
      label: 'Archive hook',
      type: 'webhook',
      config: { webhook: { url: hookUrl('default') } },
    })
    const marked = await client.setDefaultDestination(organizationId, destination.id)
    expect(marked.isDefault).toBe(true)
    const unmarked = await client.unsetDefaultDestination(organizationId, destination.id)
    expect(unmarked.isDefault).toBe(false)
  })

  it('Should rotate a webhook secret, showing the new one once and the old one masked', async () => {
    const { client } = await tenantClient()
    const destination = await client.createDestination({
      label: 'Rotating hook',
      type: 'webhook',
      config: { webhook: { url: hookUrl('rotate'), secret: WEBHOOK_SECRET } },
    })
    const rotated = await client.rotateDestinationSecret(destination.id)
    const secret = (rotated.config.webhook as { secret: string }).secret
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(rotated.previousSecrets).toEqual([{ secret: '****LaSw', expiresAt: expect.any(String) }])
  })

  it('Should read the health of a new destination and requeue nothing when nothing failed', async () => {
    const { client } = await tenantClient()
    const destination = await client.createDestination({
      label: 'Healthy hook',
      type: 'webhook',
      config: { webhook: { url: hookUrl('health') } },
    })
    expect(await client.getDestinationHealth(destination.id)).toEqual({
      destinationId: destination.id,
      disabled: false,
      disabledReason: null,
      consecutiveFailures: 0,
      circuit: 'closed',
      openedAt: null,
      probeAt: null,
      firstFailureAt: null,
      lastFailureAt: null,
      lastSuccessAt: null,
      successRate: null,
      windowSize: 0,
      backlog: { queued: 0, retrying: 0, delivering: 0, oldestAgeMs: null },
    })
    const since = '2026-01-01T00:00:00.000Z'
    expect(await client.recoverDestination(destination.id, { since })).toEqual({
      destinationId: destination.id,
      since,
      requeued: 0,
    })
    expect(await client.replayToDestination(destination.id, { since })).toEqual({
      destinationId: destination.id,
      since,
      requeued: 0,
    })
  })
})

describe('client: destination test and download links', () => {
  it('Should test a webhook destination with a signed probe the receiver accepts', async () => {
    const { client, apiKey } = await tenantClient()
    const hook = await createWebhookDestination(apiKey, { label: 'probed' })
    const result = await client.testDestination(hook.id)
    expect(result).toMatchObject({
      destinationId: hook.id,
      type: 'webhook',
      ok: true,
      outcome: 'delivered',
      code: null,
      httpStatus: 200,
    })
    const [probe] = await receivedAt(hook.path)
    expect(JSON.parse(probe.body)).toMatchObject({ type: 'destination.test' })
  })

  it('Should revoke a delivered download link so that it answers 410', async () => {
    const { client } = await tenantClient()
    const destination = await client.createDestination({
      label: 'Download links',
      type: 'download',
      config: { download: { expiresIn: 3600 } },
    })
    const receipt = await client.deliver({
      destinations: destination.id,
      payload: { type: 'audit', data: { n: 1 } },
    })
    const delivery = await client.waitForDelivery(receipt.deliveryId, { intervalMs: 50 })
    const link = delivery.destinations[0]?.reference?.downloadUrl ?? ''
    expect(link).toMatch(/\/v1\/downloads\/[A-Za-z0-9_-]{43}$/)

    const revoked = await client.revokeDownload(link)
    expect(revoked).toMatchObject({
      deliveryId: receipt.deliveryId,
      destinationId: destination.id,
      downloadCount: 0,
      revokedAt: expect.any(String),
    })
    const fetchLink = workerFetch()
    const gone = await fetchLink(new Request(`${SERVICE_URL}${new URL(link).pathname}`))
    expect(gone.status).toBe(410)
    expect(await gone.json()).toMatchObject({
      error: { code: 'gone', message: 'This download link was revoked' },
    })
  })
})
