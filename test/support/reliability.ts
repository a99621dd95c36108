/**
 * Helpers for the reliability tests: an organization's object, settings in one call,
 * polling for a condition, and the invariant every fault test ends with (each accepted
 * delivery settled, each destination reached under one stable webhook-id).
 */
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { expect } from 'vitest'
import type { OrganizationDurableObject } from '../../src/durable-objects/organization'
import { organizationStub } from '../../src/durable-objects/organization-stub'
import { call } from './api'
import { receivedAt, waitForDelivery } from './delivery-helpers'

/** The RPC stub of an organization's Durable Object. */
export function organizationObject(organizationId: string) {
  return organizationStub(env, organizationId)
}

/** Runs `callback` inside the organization's object, with its instance and SQL storage. */
export function insideOrganization<R>(
  organizationId: string,
  callback: (
    instance: OrganizationDurableObject,
    sql: SqlStorage,
    state: DurableObjectState,
  ) => R | Promise<R>,
): Promise<R> {
  return runInDurableObject(
    organizationObject(organizationId),
    (instance: OrganizationDurableObject, state) => callback(instance, state.storage.sql, state),
  )
}

/** Replaces the organization's settings (defaults fill the rest); fails the test on an error. */
export async function putSettings(apiKey: string, settings: Record<string, unknown>) {
  const response = await call('/v1/settings', { method: 'PUT', token: apiKey, body: settings })
  if (response.status !== 200) throw new Error(`settings: ${response.status} ${response.text}`)
  return response.json.settings
}

/** Short retries so that fault tests settle in seconds. */
export const FAST_RETRY = { maxAttempts: 6, baseDelay: 100, maxDelay: 400 }

/** Polls until `probe` answers something truthy; fails with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await probe()
    if (value) return value
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Accepts one delivery and answers its 202 body. */
export async function deliver(apiKey: string, body: unknown) {
  const response = await call('/v1/deliveries', { token: apiKey, body })
  if (response.status !== 202) throw new Error(`deliver: ${response.status} ${response.text}`)
  return response.json as { deliveryId: string; sequence: number }
}

/** Reads a delivery's status view. */
export async function deliveryView(apiKey: string, deliveryId: string) {
  const response = await call(`/v1/deliveries/${deliveryId}`, { token: apiKey })
  if (response.status !== 200) throw new Error(`read delivery: ${response.status} ${response.text}`)
  return response.json
}

/**
 * The fault tests' invariant: the delivery settles (never stuck), every destination ends
 * delivered or failed with its reason, and each receiver path got it at least once, every
 * time under the destination's one webhook-id.
 */
export async function expectSettledAndReceived(
  apiKey: string,
  deliveryId: string,
  paths: Record<string, string>,
) {
  const view = await waitForDelivery(apiKey, deliveryId, (v) =>
    ['delivered', 'failed', 'partially_delivered'].includes(v.status),
  )
  for (const target of view.destinations) {
    if (target.status === 'failed')
      expect(target.lastError).toMatchObject({ code: expect.any(String) })
    else expect(target.status).toBe('delivered')
    const path = paths[target.destinationId]
    if (!path) continue
    const requests = (await receivedAt(path)).filter((r) => r.body.includes(deliveryId))
    expect(requests.length).toBeGreaterThanOrEqual(1)
    expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(
      new Set([target.messageId]),
    )
  }
  return view
}
