/**
 * At-rest encryption: AES-256-GCM under a key from the `ENCRYPTION_KEYS` secret. A sealed
 * value is `v1.<keyId>.<iv>.<ciphertext>` (base64url parts), so values sealed under an
 * older key still open after rotation while new values use the first key listed.
 */

import { fromBase64, fromBase64Url, toBase64Url, utf8 } from './encoding'
import { ApiError } from './errors'

interface KeyRing {
  current: { id: string; key: CryptoKey }
  byId: Map<string, CryptoKey>
}

const rings = new Map<string, Promise<KeyRing>>()

/** Parses `ENCRYPTION_KEYS` ("id:base64,id:base64"); the first key seals. */
export function keyRing(secret: string | undefined): Promise<KeyRing> {
  const value = secret ?? ''
  let ring = rings.get(value)
  if (!ring) {
    ring = buildKeyRing(value)
    rings.set(value, ring)
  }
  return ring
}

async function buildKeyRing(secret: string): Promise<KeyRing> {
  const entries = secret
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
  if (entries.length === 0) throw misconfigured('ENCRYPTION_KEYS is not set')
  const byId = new Map<string, CryptoKey>()
  let current: KeyRing['current'] | undefined
  for (const entry of entries) {
    const [id, material] = entry.split(':')
    const raw = material ? fromBase64(material) : new Uint8Array()
    if (!id || raw.byteLength !== 32)
      throw misconfigured('ENCRYPTION_KEYS entries must be "<id>:<base64 of 32 bytes>"')
    const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt'])
    byId.set(id, key)
    current ??= { id, key }
  }
  if (!current) throw misconfigured('ENCRYPTION_KEYS is empty')
  return { current, byId }
}

function misconfigured(message: string): Error {
  return new Error(`configuration_error: ${message}`)
}

/** Encrypts bytes; the result names the key id it was sealed under. */
export async function sealBytes(
  secret: string | undefined,
  plain: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const ring = await keyRing(secret)
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const cipher = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, ring.current.key, plain)
  return `v1.${ring.current.id}.${toBase64Url(iv)}.${toBase64Url(cipher)}`
}

/** Decrypts a value sealed by `sealBytes` under any key still in the ring. */
export async function openBytes(
  secret: string | undefined,
  sealed: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const [version, keyId, iv, cipher] = sealed.split('.')
  const ring = await keyRing(secret)
  const key = keyId ? ring.byId.get(keyId) : undefined
  if (version !== 'v1' || !key || !iv || cipher === undefined) {
    throw new ApiError('internal_error', 'a sealed value cannot be opened with the configured keys')
  }
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: fromBase64Url(iv) },
    key,
    fromBase64Url(cipher),
  )
  return new Uint8Array(plain)
}

export async function sealText(secret: string | undefined, text: string): Promise<string> {
  return sealBytes(secret, utf8.encode(text))
}

export async function openText(secret: string | undefined, sealed: string): Promise<string> {
  return utf8.decode(await openBytes(secret, sealed))
}

/** The id of the key that sealed a value (for rotation). */
export function sealedKeyId(sealed: string): string | undefined {
  return sealed.split('.')[1]
}

/** The id of the key that seals new values. */
export async function currentKeyId(secret: string | undefined): Promise<string> {
  return (await keyRing(secret)).current.id
}
