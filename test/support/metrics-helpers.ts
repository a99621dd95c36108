/**
 * Helpers for metrics tests: poll the metrics route until the counts a test expects have
 * been written (the consumer writes them just after the object records the attempts),
 * and derive the expected latency histogram from the attempts the service recorded.
 */
import { bucketIndex, emptyBuckets } from '../../src/services/metrics/histogram'
import { call } from './api'

/** Polls `GET <path>` until `done` accepts the body; fails with the last body after `timeoutMs`. */
export async function pollMetrics(
  apiKey: string,
  path: string,
  // biome-ignore lint/suspicious/noExplicitAny: metrics bodies are plain JSON
  done: (body: any) => boolean,
  timeoutMs = 15_000,
  // biome-ignore lint/suspicious/noExplicitAny: see above
): Promise<any> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    const response = await call(path, { token: apiKey })
    last = response.json ?? response.text
    if (response.status === 200 && done(response.json ?? response.text)) return last
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`metrics never matched: ${JSON.stringify(last)}`)
}

/** The attempts the service recorded for deliveries, as the metrics should count them. */
export async function recordedAttempts(
  apiKey: string,
  deliveryIds: string[],
): Promise<{ destinationId: string; durationMs: number }[]> {
  const all = []
  for (const id of deliveryIds) {
    const response = await call(`/v1/deliveries/${id}/attempts`, { token: apiKey })
    if (response.status !== 200) throw new Error(`attempts of ${id}: ${response.status}`)
    all.push(...(response.json.attempts as { destinationId: string; durationMs: number }[]))
  }
  return all
}

/** Histogram buckets and duration sum of a set of attempts. */
export function histogramOf(attempts: { durationMs: number }[]): {
  buckets: number[]
  sumMs: number
} {
  const buckets = emptyBuckets()
  let sumMs = 0
  for (const { durationMs } of attempts) {
    const index = bucketIndex(durationMs)
    buckets[index] = (buckets[index] ?? 0) + 1
    sumMs += durationMs
  }
  return { buckets, sumMs }
}
