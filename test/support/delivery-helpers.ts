/**
 * Helpers for end-to-end delivery tests: destinations on the loopback peers, waiting for
 * a delivery to settle, and reading what a peer received.
 */
import { inject } from 'vitest'
import { call } from './api'

export const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'

let paths = 0

/** Makes the receiver verify a path with these secrets from now on. */
export async function registerSecrets(path: string, secrets: string[]): Promise<void> {
  const response = await fetch(`${inject('peers').webhook.url}/__peer/endpoints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ path, secrets }),
  })
  if (!response.ok) throw new Error(`register hook path: ${response.status}`)
}

/** A path on the webhook receiver no other test uses, registered to verify with `secret`. */
export async function freshHookPath(secret = WEBHOOK_SECRET): Promise<string> {
  paths += 1
  const path = `/hooks/${Date.now().toString(36)}-${paths}-${Math.random().toString(36).slice(2, 8)}`
  await registerSecrets(path, [secret])
  return path
}

/** Creates a webhook destination pointing at a fresh receiver path. */
export async function createWebhookDestination(
  apiKey: string,
  options: {
    label?: string
    secret?: string
    delivery?: Record<string, unknown>
    timeout?: number
  } = {},
): Promise<{ id: string; path: string; url: string }> {
  const path = await freshHookPath(options.secret ?? WEBHOOK_SECRET)
  const url = `${inject('peers').webhook.url}${path}`
  const created = await call('/v1/destinations', {
    token: apiKey,
    body: {
      label: options.label ?? `hook ${path}`,
      type: 'webhook',
      config: {
        webhook: {
          url,
          method: 'POST',
          timeout: options.timeout ?? 5000,
          secret: options.secret ?? WEBHOOK_SECRET,
        },
      },
      ...(options.delivery ? { delivery: options.delivery } : {}),
    },
  })
  if (created.status !== 201)
    throw new Error(`create webhook destination: ${created.status} ${created.text}`)
  return { id: created.json.id, path, url }
}

/** What the webhook receiver recorded for a path, oldest first. */
// biome-ignore lint/suspicious/noExplicitAny: recorded requests are plain JSON
export async function receivedAt(path: string): Promise<any[]> {
  const response = await fetch(
    `${inject('peers').webhook.url}/__peer/requests?path=${encodeURIComponent(path)}`,
  )
  const body = (await response.json()) as { requests: unknown[] } | unknown[]
  // biome-ignore lint/suspicious/noExplicitAny: see above
  return (Array.isArray(body) ? body : body.requests) as any[]
}

/** Makes the receiver misbehave on a path (see test/peers/http-peer.ts for faults). */
export async function injectFault(path: string, fault: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${inject('peers').webhook.url}/__peer/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ path, fault }),
  })
  if (!response.ok) throw new Error(`inject fault: ${response.status}`)
}

/** Clears the faults still queued for a path. */
export async function clearFaults(path: string): Promise<void> {
  const response = await fetch(
    `${inject('peers').webhook.url}/__peer/faults?path=${encodeURIComponent(path)}`,
    { method: 'DELETE' },
  )
  await response.arrayBuffer()
}

/** Polls a delivery until `done` accepts it; fails with the last view after `timeoutMs`. */
export async function waitForDelivery(
  apiKey: string,
  deliveryId: string,
  // biome-ignore lint/suspicious/noExplicitAny: delivery views are plain JSON
  done: (view: any) => boolean = (view) =>
    ['delivered', 'failed', 'partially_delivered'].includes(view.status),
  timeoutMs = 20_000,
  // biome-ignore lint/suspicious/noExplicitAny: see above
): Promise<any> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    const response = await call(`/v1/deliveries/${deliveryId}`, { token: apiKey })
    last = response.json
    if (response.status === 200 && done(response.json)) return response.json
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`delivery ${deliveryId} did not settle: ${JSON.stringify(last)}`)
}

/** A delivery body in the seed's shape. */
export function seedDelivery(
  destinations: string | string[],
  overrides: Record<string, unknown> = {},
) {
  return {
    destinations,
    payload: {
      type: 'phi-access-audit',
      data: { patientId: 'p-1', action: 'read' },
      metadata: { eventType: 'phi-access' },
    },
    options: { priority: 5, correlationId: 'user-1', tags: ['hipaa'] },
    ...overrides,
  }
}
