import { describe, expect, it } from 'vitest'
import { call, createTenant } from '../support/api'
import {
  createWebhookDestination,
  receivedAt,
  seedDelivery,
  waitForDelivery,
} from '../support/delivery-helpers'
import { deliver, eventually } from '../support/reliability'

const BACKLOG = 2000
const BATCH = 1000

describe('fairness between organizations', () => {
  it("Should deliver another organization's new delivery before half of one organization's backlog of thousands", async () => {
    const busy = await createTenant('busy')
    const quiet = await createTenant('quiet')
    const busyHook = await createWebhookDestination(busy.apiKey)
    const quietHook = await createWebhookDestination(quiet.apiKey)

    for (let offset = 0; offset < BACKLOG; offset += BATCH) {
      const response = await call('/v1/deliveries/batch', {
        token: busy.apiKey,
        body: { deliveries: Array.from({ length: BATCH }, () => seedDelivery(busyHook.id)) },
      })
      expect(response.status).toBe(200)
      expect(response.json.results.every((r: { status: string }) => r.status === 'accepted')).toBe(
        true,
      )
    }
    const started = Date.now()
    const accepted = await deliver(quiet.apiKey, seedDelivery(quietHook.id))
    const view = await waitForDelivery(quiet.apiKey, accepted.deliveryId, undefined, 60_000)
    const waitedMs = Date.now() - started
    // Counted after the quiet delivery settled, so this bounds what was delivered before it.
    const busyDone = (await receivedAt(busyHook.path)).length

    expect(view.status).toBe('delivered')
    expect(busyDone).toBeLessThan(BACKLOG / 2)
    console.info(
      JSON.stringify({ event: 'fairness', backlog: BACKLOG, busyDoneBefore: busyDone, waitedMs }),
    )

    // Let the backlog drain, so nothing is left running when the file's storage is reset.
    await eventually(
      'the backlog to drain',
      async () => (await receivedAt(busyHook.path)).length >= BACKLOG,
      120_000,
      500,
    )
  }, 180_000)
})
