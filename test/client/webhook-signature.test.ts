import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { verifyWebhookSignature, WebhookVerificationError } from '../../src/client/index.ts'
import { createWebhookDestination, receivedAt, WEBHOOK_SECRET } from '../support/delivery-helpers'
import { tenantClient } from './harness'

const OTHER_SECRET = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD'

function signed(body: string, secret = WEBHOOK_SECRET, at = new Date()) {
  const id = 'msg_test'
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  }
}

describe('verifyWebhookSignature', () => {
  it('Should verify a webhook the service delivered and return its envelope', async () => {
    const { client, apiKey, organizationId } = await tenantClient()
    const hook = await createWebhookDestination(apiKey)
    const receipt = await client.deliver({
      destinations: hook.id,
      payload: { type: 'fhir-audit-event', data: { resourceType: 'AuditEvent', id: 'example' } },
    })
    await client.waitForDelivery(receipt.deliveryId, { intervalMs: 50 })
    const [request] = await receivedAt(hook.path)

    const envelope = verifyWebhookSignature({
      body: request.body,
      headers: request.headers,
      secrets: WEBHOOK_SECRET,
    })
    expect(envelope).toEqual({
      id: receipt.deliveryId,
      type: 'fhir-audit-event',
      timestamp: receipt.acceptedAt,
      organizationId,
      sequence: 1,
      data: { resourceType: 'AuditEvent', id: 'example' },
      metadata: null,
      correlationId: null,
      tags: [],
    })
    expect(() =>
      verifyWebhookSignature({
        body: `${request.body} `,
        headers: request.headers,
        secrets: WEBHOOK_SECRET,
      }),
    ).toThrow(new WebhookVerificationError('No matching signature found'))
  })

  it('Should accept any of several secrets, as during a rotation, and refuse others', () => {
    const body = '{"id":"dlv_1"}'
    const headers = new Headers(signed(body, OTHER_SECRET))
    expect(
      verifyWebhookSignature({ body, headers, secrets: [WEBHOOK_SECRET, OTHER_SECRET] }),
    ).toEqual({
      id: 'dlv_1',
    })
    expect(() => verifyWebhookSignature({ body, headers, secrets: WEBHOOK_SECRET })).toThrow(
      new WebhookVerificationError('No matching signature found'),
    )
    expect(() => verifyWebhookSignature({ body, headers, secrets: [] })).toThrow(
      new WebhookVerificationError('No secret to verify with'),
    )
  })

  it('Should check a recorded request against the time it arrived, not the current time', () => {
    const body = '{"id":"dlv_2"}'
    const sentAt = new Date(Date.now() - 60 * 60 * 1000)
    const headers = signed(body, WEBHOOK_SECRET, sentAt)
    expect(() => verifyWebhookSignature({ body, headers, secrets: WEBHOOK_SECRET })).toThrow(
      new WebhookVerificationError('Message timestamp too old'),
    )
    expect(
      verifyWebhookSignature({
        body,
        headers,
        secrets: WEBHOOK_SECRET,
        receivedAt: new Date(sentAt.getTime() + 2000),
      }),
    ).toEqual({ id: 'dlv_2' })
    expect(() =>
      verifyWebhookSignature({ body, headers, secrets: WEBHOOK_SECRET, receivedAt: new Date() }),
    ).toThrow(
      new WebhookVerificationError('Message timestamp outside the tolerance of its arrival'),
    )
    expect(() =>
      verifyWebhookSignature({
        body: '{"id":"dlv_3"}',
        headers,
        secrets: WEBHOOK_SECRET,
        receivedAt: sentAt,
      }),
    ).toThrow(new WebhookVerificationError('No matching signature found'))
  })

  it('Should refuse a request without the Standard Webhooks headers', () => {
    expect(() =>
      verifyWebhookSignature({ body: '{}', headers: {}, secrets: WEBHOOK_SECRET }),
    ).toThrow(new WebhookVerificationError('Missing required headers'))
  })
})
