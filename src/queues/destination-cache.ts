/**
 * A short-lived per-isolate cache of destinations for the consumer, so a batch of a
 * hundred messages to one destination reads D1 and opens its secrets once. Entries are
 * keyed by the destination's version (its `updatedAt`, carried by each message), so work
 * released after a change never uses the config from before it; five seconds bounds the
 * rest.
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
  version: string,
): Promise<LoadedDestination | null> {
  const key = `${organizationId}/${destinationId}/${version}`
  const now = Date.now()
  const hit = cache.get(key)
  if (hit && now - hit.at < TTL_MS) return hit.value
  for (const [stale, entry] of cache) if (now - entry.at >= TTL_MS) cache.delete(stale)
  const value = loadDestination(env, organizationId, destinationId)
  cache.set(key, { at: now, value })
  value.catch(() => cache.delete(key))
  return value
}
