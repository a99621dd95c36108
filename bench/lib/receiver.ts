/**
 * The benchmark's webhook receiver: the test suite's loopback HTTP peer with a handler
 * that verifies each request's Standard Webhooks signature against the secret of its path
 * and remembers the delivery id of every verified request, so "delivered" is proved at
 * the receiving end rather than taken from the service's word.
 */
import { Webhook } from 'standardwebhooks'
import { json, startHttpPeer } from '../../test/peers/http-peer.ts'

export interface CountingReceiver {
  url: string
  /** Verifies requests to `path` with `secret` from now on. */
  register(path: string, secret: string): void
  /** Distinct delivery ids verified at `path`. */
  delivered(path: string): Set<string>
  /** Requests whose signature did not verify, or that came to an unknown path. */
  rejected(): number
  /** Verified requests, duplicates included (at-least-once delivery may repeat one). */
  received(): number
  close(): Promise<void>
}

export async function startCountingReceiver(): Promise<CountingReceiver> {
  const verifiers = new Map<string, Webhook>()
  const ids = new Map<string, Set<string>>()
  let rejected = 0
  let received = 0
  const peer = await startHttpPeer((request) => {
    const verifier = verifiers.get(request.path)
    try {
      if (!verifier) throw new Error('unknown path')
      const envelope = verifier.verify(request.body.toString('utf8'), request.headers) as {
        id: string
      }
      received += 1
      ids.get(request.path)?.add(envelope.id)
      return json(200, { received: true })
    } catch {
      rejected += 1
      return json(401, { error: 'not verified' })
    }
  })
  // The peer keeps recent requests for inspection; the benchmark only needs the counts.
  const trim = setInterval(() => peer.requests.splice(0, peer.requests.length), 1000)
  return {
    url: peer.url,
    register(path, secret) {
      verifiers.set(path, new Webhook(secret))
      if (!ids.has(path)) ids.set(path, new Set())
    },
    delivered: (path) => ids.get(path) ?? new Set(),
    rejected: () => rejected,
    received: () => received,
    close: async () => {
      clearInterval(trim)
      await peer.close()
    },
  }
}
