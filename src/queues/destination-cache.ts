/**
 * A short-lived per-isolate cache of destinations for the consumer, so a batch of a
 * hundred messages to one destination reads D1 and opens its secrets once. Five seconds
 * bounds how long a changed secret or URL can go unnoticed.
 */
import type { ServiceEnv } from '../env'
import type { LoadedDestination } from '../schemas/destination'
import { loadDestination } from '../services/destinations/repository'

const TTL_MS = 5_000
const cache = new Map<string, { at: number; value: Promise<LoadedDestination | null> }>()

export function loadDestinationCached(
  env: ServiceEnv,
  organizationId: string,
  destinationId: string,
): Promise<LoadedDestination | null> {
  const key = `${organizationId}/${destinationId}`
  const now = Date.now()
  const hit = cache.get(key)
  if (hit && now - hit.at < TTL_MS) return hit.value
  const value = loadDestination(env, organizationId, destinationId)
  cache.set(key, { at: now, value })
  value.catch(() => cache.delete(key))
  return value
}
