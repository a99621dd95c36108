/**
 * The wire format of tenant API keys: `dsk_<organizationId>_<keyIdSuffix>_<64 hex>`.
 * Organization slugs and key id suffixes contain no underscore, so the parts split cleanly.
 */

import { toHex } from './encoding'
import { ID_PREFIXES, randomToken } from './ids'

export interface ParsedApiKey {
  organizationId: string
  keyId: string
}

/** A fresh key for an organization, with its id. */
export function generateApiKey(organizationId: string): {
  key: string
  keyId: string
  prefix: string
} {
  const suffix = randomToken(20)
  const secret = toHex(crypto.getRandomValues(new Uint8Array(32)))
  const key = `dsk_${organizationId}_${suffix}_${secret}`
  return {
    key,
    keyId: `${ID_PREFIXES.apiKey}_${suffix}`,
    prefix: `dsk_${organizationId}_${suffix.slice(0, 6)}`,
  }
}

/** Splits a presented key; null when it does not have the key's shape. */
export function parseApiKey(key: string): ParsedApiKey | null {
  const match = /^dsk_([a-z0-9]+(?:-[a-z0-9]+)*)_([a-z2-7]{20})_([0-9a-f]{64})$/.exec(key)
  if (!match) return null
  return { organizationId: match[1] as string, keyId: `${ID_PREFIXES.apiKey}_${match[2]}` }
}
