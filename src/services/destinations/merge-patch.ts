/**
 * JSON Merge Patch (RFC 7396): objects merge key by key, `null` removes a key, anything
 * else (arrays included) replaces. PATCH on a destination applies the body this way.
 */
import { isObject } from './secret-fields'

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key]
    else result[key] = applyMergePatch(result[key], value)
  }
  return result
}
