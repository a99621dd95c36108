/**
 * The sealed `secrets` column of a destination: one JSON document holding the config's
 * secret fields keyed by pointer and, for webhooks, the rotated-out signing secrets that
 * still sign during their grace period. Sealed with the at-rest key (`lib/at-rest.ts`).
 */
import type { ServiceEnv } from '../../env'
import { openText, sealText } from '../../lib/at-rest'
import type { PreviousSecret } from '../../schemas/destination'

export interface SecretBag {
  /** Secret config fields keyed by JSON Pointer relative to the type's config. */
  values: Record<string, string>
  /** Webhook only: secrets replaced by rotation, each signing until its `expiresAt`. */
  previousSecrets: PreviousSecret[]
}

export const EMPTY_BAG: SecretBag = { values: {}, previousSecrets: [] }

/** Seals a bag; null when there is nothing secret to store. */
export async function sealBag(env: ServiceEnv, bag: SecretBag): Promise<string | null> {
  if (Object.keys(bag.values).length === 0 && bag.previousSecrets.length === 0) return null
  return sealText(env.ENCRYPTION_KEYS, JSON.stringify(bag))
}

/** Opens the sealed column (null opens to an empty bag). */
export async function openBag(env: ServiceEnv, sealed: string | null): Promise<SecretBag> {
  if (!sealed) return { values: {}, previousSecrets: [] }
  const bag = JSON.parse(await openText(env.ENCRYPTION_KEYS, sealed)) as Partial<SecretBag>
  return { values: bag.values ?? {}, previousSecrets: bag.previousSecrets ?? [] }
}

/** The previous secrets still inside their grace period at `now`. */
export function previousSecretsInGrace(
  previous: readonly PreviousSecret[],
  now: number,
): PreviousSecret[] {
  return previous.filter((entry) => Date.parse(entry.expiresAt) > now)
}
