import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../../src/index'
import { openText, sealText } from '../../src/lib/at-rest'
import {
  rotateDueSecrets,
  SECRET_ROTATED_EVENT,
  secretRotationJob,
} from '../../src/scheduled/secret-rotation'
import { call, createTenant } from '../support/api'
import {
  createWebhookDestination,
  receivedAt,
  seedDelivery,
  WEBHOOK_SECRET,
  waitForDelivery,
} from '../support/delivery-helpers'
import { registerWebhook } from '../support/peers'
import { deliver, eventually, putSettings } from '../support/reliability'

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000

type Tenant = Awaited<ReturnType<typeof createTenant>>

/** Rewrites when each rotated-out secret of a destination stops signing (in the sealed column). */
async function setGraceEnd(destinationId: string, expiresAt: string) {
  const row = await env.DB.prepare('SELECT secrets FROM destinations WHERE id = ?')
    .bind(destinationId)
    .first<{ secrets: string }>()
  const bag = JSON.parse(await openText(env.ENCRYPTION_KEYS, row?.secrets as string))
  for (const previous of bag.previousSecrets) previous.expiresAt = expiresAt
  await env.DB.prepare('UPDATE destinations SET secrets = ? WHERE id = ?')
    .bind(await sealText(env.ENCRYPTION_KEYS, JSON.stringify(bag)), destinationId)
    .run()
}

/** Makes a destination's secret look `days` old, as the audit trail records when it was set. */
async function ageSecret(destinationId: string, days: number) {
  await env.DB.prepare('UPDATE audit_log SET created_at = ? WHERE resource_id = ?')
    .bind(new Date(Date.now() - days * DAY_MS).toISOString(), destinationId)
    .run()
}

async function deliverAndRead(tenant: Tenant, hook: { id: string; path: string }) {
  const accepted = await deliver(tenant.apiKey, seedDelivery(hook.id))
  await waitForDelivery(tenant.apiKey, accepted.deliveryId)
  const requests = (await receivedAt(hook.path)).filter((r) => r.body.includes(accepted.deliveryId))
  expect(requests).toHaveLength(1)
  return requests[0]
}

describe('webhook secret rotation with a grace period', () => {
  it('Should sign with the old and the new secret during the grace period', async () => {
    const tenant = await createTenant('secrets')
    const hook = await createWebhookDestination(tenant.apiKey)
    const rotated = await call(`/v1/destinations/${hook.id}/rotate-secret`, {
      method: 'POST',
      token: tenant.apiKey,
    })
    expect(rotated.status).toBe(200)
    const newSecret = rotated.json.config.webhook.secret as string
    expect(newSecret).toMatch(/^whsec_/)
    expect(newSecret).not.toBe(WEBHOOK_SECRET)
    const [previous] = rotated.json.previousSecrets
    expect(previous.secret).toBe(`****${WEBHOOK_SECRET.slice(-4)}`)
    expect(Date.parse(previous.expiresAt) - Date.now()).toBeGreaterThan(24 * HOUR_MS - 60_000)

    await registerWebhook(hook.path, [WEBHOOK_SECRET, newSecret])
    const request = await deliverAndRead(tenant, hook)
    expect(request.check).toEqual({ ok: true, details: { verified: [true, true] } })
    expect(request.headers['webhook-signature'].split(' ')).toHaveLength(2)
  })

  it('Should sign with the new secret only once the grace period has ended', async () => {
    const tenant = await createTenant('secrets')
    const hook = await createWebhookDestination(tenant.apiKey)
    const rotated = await call(`/v1/destinations/${hook.id}/rotate-secret`, {
      method: 'POST',
      token: tenant.apiKey,
    })
    const newSecret = rotated.json.config.webhook.secret as string
    await setGraceEnd(hook.id, new Date(Date.now() - 1000).toISOString())

    await registerWebhook(hook.path, [newSecret, WEBHOOK_SECRET])
    const request = await deliverAndRead(tenant, hook)
    expect(request.check).toEqual({ ok: true, details: { verified: [true, false] } })
    expect(request.headers['webhook-signature'].split(' ')).toHaveLength(1)
    const read = await call(`/v1/destinations/${hook.id}`, { token: tenant.apiKey })
    expect(read.json.previousSecrets).toEqual([])
  })
})

describe('automatic webhook secret rotation (cron)', () => {
  it('Should refuse automatic rotation in the settings without an alert destination', async () => {
    const tenant = await createTenant('secrets')
    const response = await call('/v1/settings', {
      method: 'PUT',
      token: tenant.apiKey,
      body: { security: { webhookSecrets: { rotationDays: 30 } } },
    })
    expect(response.status).toBe(400)
    expect(response.json).toEqual({
      error: {
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
        requestId: response.headers.get('x-request-id'),
      },
    })
  })

  it('Should send the new secret to the alert destination before it starts signing, then sign with both', async () => {
    const tenant = await createTenant('secrets')
    const alerts = await createWebhookDestination(tenant.apiKey, { label: 'On-call' })
    const hook = await createWebhookDestination(tenant.apiKey, { label: 'Partner' })
    await putSettings(tenant.apiKey, {
      security: {
        webhookSecrets: { rotationDays: 30, graceHours: 12 },
        alertDestinationId: alerts.id,
      },
    })
    await ageSecret(hook.id, 31)

    // Through the Worker's scheduled handler, as the cron trigger runs it.
    const ctx = createExecutionContext()
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now() }), env, ctx)
    await waitOnExecutionContext(ctx)

    const [announcement] = await eventually('the announcement to arrive', async () => {
      const requests = await receivedAt(alerts.path)
      return requests.length > 0 && requests
    })
    const event = JSON.parse(announcement.body)
    expect(event).toMatchObject({
      type: SECRET_ROTATED_EVENT,
      organizationId: tenant.organizationId,
      tags: ['operational'],
      data: {
        organizationId: tenant.organizationId,
        destinationId: hook.id,
        label: 'Partner',
        secret: expect.stringMatching(/^whsec_/),
      },
    })
    const newSecret = event.data.secret as string
    const audit = await call(`/v1/audit-log?resourceId=${hook.id}`, { token: tenant.apiKey })
    const [rotation] = audit.json.entries
    expect(rotation).toMatchObject({ actor: 'system', action: 'destination.secret_rotated' })
    // Announced (stored for delivery) before the rotation was committed.
    expect(Date.parse(event.timestamp)).toBeLessThanOrEqual(Date.parse(rotation.createdAt))
    expect(JSON.stringify(audit.json)).not.toContain(newSecret)

    const read = await call(`/v1/destinations/${hook.id}`, { token: tenant.apiKey })
    expect(read.json.config.webhook.secret).toBe(`****${newSecret.slice(-4)}`)
    expect(read.json.previousSecrets).toHaveLength(1)
    expect(
      Math.abs(
        Date.parse(read.json.previousSecrets[0].expiresAt) -
          Date.parse(event.data.previousSecretValidUntil),
      ),
    ).toBeLessThan(60_000)

    await registerWebhook(hook.path, [WEBHOOK_SECRET, newSecret])
    const request = await deliverAndRead(tenant, hook)
    expect(request.check).toEqual({ ok: true, details: { verified: [true, true] } })

    // Not due again: the audit trail now dates the secret from this rotation.
    await rotateDueSecrets(env, new Date())
    const after = await call(`/v1/audit-log?resourceId=${hook.id}`, { token: tenant.apiKey })
    expect(
      after.json.entries.filter(
        (e: { action: string }) => e.action === 'destination.secret_rotated',
      ),
    ).toHaveLength(1)
  })

  it('Should leave secrets younger than the period, and organizations that do not rotate, alone', async () => {
    const rotating = await createTenant('secrets')
    const alerts = await createWebhookDestination(rotating.apiKey)
    const young = await createWebhookDestination(rotating.apiKey)
    await putSettings(rotating.apiKey, {
      security: { webhookSecrets: { rotationDays: 30 }, alertDestinationId: alerts.id },
    })
    await ageSecret(young.id, 29)
    const notRotating = await createTenant('secrets')
    const old = await createWebhookDestination(notRotating.apiKey)
    await ageSecret(old.id, 400)

    await rotateDueSecrets(env, new Date())
    for (const [tenant, hook] of [
      [rotating, young],
      [notRotating, old],
    ] as const) {
      const audit = await call(`/v1/audit-log?resourceId=${hook.id}`, { token: tenant.apiKey })
      expect(audit.json.entries.map((e: { action: string }) => e.action)).toEqual([
        'destination.created',
      ])
    }
    expect(await receivedAt(alerts.path)).toEqual([])
  })

  it('Should not rotate a secret it cannot announce (the alert destination is disabled)', async () => {
    const tenant = await createTenant('secrets')
    const alerts = await createWebhookDestination(tenant.apiKey)
    const hook = await createWebhookDestination(tenant.apiKey)
    await putSettings(tenant.apiKey, {
      security: { webhookSecrets: { rotationDays: 7 }, alertDestinationId: alerts.id },
    })
    await call(`/v1/destinations/${alerts.id}`, {
      method: 'PATCH',
      token: tenant.apiKey,
      body: { disabled: true },
    })
    await ageSecret(hook.id, 8)

    await rotateDueSecrets(env, new Date())
    const read = await call(`/v1/destinations/${hook.id}`, { token: tenant.apiKey })
    expect(read.json.previousSecrets).toEqual([])
    expect(read.json.config.webhook.secret).toBe(`****${WEBHOOK_SECRET.slice(-4)}`)
  })

  it('Should look at most once an hour', async () => {
    const tenant = await createTenant('secrets')
    const alerts = await createWebhookDestination(tenant.apiKey)
    const hook = await createWebhookDestination(tenant.apiKey)
    await putSettings(tenant.apiKey, {
      security: { webhookSecrets: { rotationDays: 7 }, alertDestinationId: alerts.id },
    })
    const start = Date.now() + 2 * HOUR_MS
    await secretRotationJob.run(env, new Date(start))
    await ageSecret(hook.id, 8)

    const rotations = async () =>
      (
        await call(`/v1/audit-log?resourceId=${hook.id}`, { token: tenant.apiKey })
      ).json.entries.filter((e: { action: string }) => e.action === 'destination.secret_rotated')
        .length
    await secretRotationJob.run(env, new Date(start + 10 * 60_000))
    expect(await rotations()).toBe(0)
    await secretRotationJob.run(env, new Date(start + 61 * 60_000))
    expect(await rotations()).toBe(1)
  })
})
