/**
 * Hashing, HMAC and constant-time comparison on WebCrypto. At-rest sealing lives in
 * `at-rest.ts`.
 */
import { toHex, utf8 } from './encoding'

/** SHA-256 of a string or bytes, as lowercase hex. */
export async function sha256Hex(input: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const bytes = typeof input === 'string' ? utf8.encode(input) : input
  return toHex(await crypto.subtle.digest('SHA-256', bytes))
}

/** An HMAC-SHA256 signing key from raw bytes, for callers that sign many messages with it. */
export function importHmacKey(key: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
}

/** HMAC-SHA256 of `message` under `key` (raw bytes, or a key from `importHmacKey`). */
export async function hmacSha256(
  key: Uint8Array<ArrayBuffer> | CryptoKey,
  message: string | Uint8Array<ArrayBuffer>,
): Promise<ArrayBuffer> {
  const cryptoKey = key instanceof CryptoKey ? key : await importHmacKey(key)
  return crypto.subtle.sign(
    'HMAC',
    cryptoKey,
    typeof message === 'string' ? utf8.encode(message) : message,
  )
}

/**
 * Compares two strings in time that depends only on their lengths, so a secret cannot
 * be guessed a character at a time. Uses the runtime's `timingSafeEqual`.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = utf8.encode(a)
  const right = utf8.encode(b)
  if (left.byteLength !== right.byteLength) {
    // Still spend the comparison so the early exit reveals only the length.
    crypto.subtle.timingSafeEqual(left, left)
    return false
  }
  return crypto.subtle.timingSafeEqual(left, right)
}
