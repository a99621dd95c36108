/**
 * Which fields of a destination's config are secrets, and the pure operations on them:
 * split a config into its public part and its secrets (stored sealed), join them back,
 * and mask them for responses. Secrets are addressed by JSON Pointer (RFC 6901) relative
 * to the type's config, such as `/secret` or `/config/secretAccessKey`.
 */
import type { DestinationType } from '../../schemas/destination'

type Json = Record<string, unknown>

/** Fixed secret fields per type. Webhook header values join them by name (see below). */
const SECRET_PATHS: Record<DestinationType, readonly (readonly string[])[]> = {
  webhook: [['secret']],
  storage: [
    ['config', 'accessKeyId'],
    ['config', 'secretAccessKey'],
  ],
  email: [
    ['apiKey'],
    ['config', 'accessKeyId'],
    ['config', 'secretAccessKey'],
    ['config', 'password'],
    ['encryption', 'key'],
  ],
  download: [],
}

/** Header names whose values are credentials (Authorization, X-Api-Key, X-Auth-Token…). */
export function isCredentialHeader(name: string): boolean {
  return /auth|token|secret|key|password|signature|cookie|session/i.test(name)
}

/** The secret fields present in a type's config, as path segments. */
export function secretPaths(type: DestinationType, config: Json): string[][] {
  const paths = SECRET_PATHS[type].filter((path) => typeof getAt(config, path) === 'string')
  const found = paths.map((path) => [...path])
  if (type === 'webhook' && isObject(config.headers)) {
    for (const name of Object.keys(config.headers)) {
      if (isCredentialHeader(name)) found.push(['headers', name])
    }
  }
  return found
}

/** RFC 6901 pointer of a path: `/config/secretAccessKey`. */
export function toPointer(path: readonly string[]): string {
  return path.map((segment) => `/${segment.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('')
}

export function fromPointer(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
}

/** Separates a config into what may be stored in clear and its secrets keyed by pointer. */
export function splitSecrets(
  type: DestinationType,
  config: Json,
): { publicConfig: Json; secrets: Record<string, string> } {
  const publicConfig = structuredClone(config)
  const secrets: Record<string, string> = {}
  for (const path of secretPaths(type, config)) {
    secrets[toPointer(path)] = getAt(config, path) as string
    removeAt(publicConfig, path)
  }
  return { publicConfig, secrets }
}

/** Puts opened secrets back into a public config. */
export function joinSecrets(publicConfig: Json, secrets: Record<string, string>): Json {
  const config = structuredClone(publicConfig)
  for (const [pointer, value] of Object.entries(secrets)) setAt(config, fromPointer(pointer), value)
  return config
}

/**
 * How a secret appears in a response: `****` and its last four characters, enough to tell
 * two secrets apart. Values shorter than 12 characters show no characters at all.
 */
export function maskSecret(value: string): string {
  return value.length >= 12 ? `****${value.slice(-4)}` : '****'
}

/** Whether a value is a mask rather than a secret (clients send masks back unchanged). */
export function isMasked(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('****')
}

/** A copy of a full config with every secret masked, except the pointers in `reveal`. */
export function maskSecrets(
  type: DestinationType,
  config: Json,
  reveal: readonly string[] = [],
): Json {
  const masked = structuredClone(config)
  for (const path of secretPaths(type, config)) {
    if (reveal.includes(toPointer(path))) continue
    setAt(masked, path, maskSecret(getAt(config, path) as string))
  }
  return masked
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function getAt(value: unknown, path: readonly string[]): unknown {
  let current = value
  for (const segment of path) {
    if (!isObject(current)) return undefined
    current = current[segment]
  }
  return current
}

/** Sets a value at a path, creating objects on the way. */
export function setAt(target: Json, path: readonly string[], value: unknown): void {
  let current = target
  for (const segment of path.slice(0, -1)) {
    if (!isObject(current[segment])) current[segment] = {}
    current = current[segment] as Json
  }
  current[path.at(-1) as string] = value
}

function removeAt(target: Json, path: readonly string[]): void {
  const parent = getAt(target, path.slice(0, -1))
  if (isObject(parent)) delete parent[path.at(-1) as string]
}
