/**
 * Ids the service generates: a type prefix and 20 random base32 characters (100 bits),
 * so a misplaced id is visible in a log line and ids sort by nothing secret.
 */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

export const ID_PREFIXES = {
  destination: 'dst',
  delivery: 'dlv',
  apiKey: 'key',
  alertRule: 'alr',
  auditEntry: 'aud',
  attempt: 'att',
  download: 'dwn',
  request: 'req',
  deadLetter: 'dlq',
} as const

export type IdKind = keyof typeof ID_PREFIXES

/** Random characters from the id alphabet. */
export function randomToken(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length))
  let out = ''
  for (const byte of bytes) out += ALPHABET[byte & 31]
  return out
}

/** A new id of the given kind, such as `dst_k3...`. */
export function newId(kind: IdKind): string {
  return `${ID_PREFIXES[kind]}_${randomToken(20)}`
}

/** Whether a string has the shape of an id of the given kind. */
export function isId(kind: IdKind, value: string): boolean {
  return new RegExp(`^${ID_PREFIXES[kind]}_[a-z2-7]{20}$`).test(value)
}
