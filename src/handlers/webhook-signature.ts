/**
 * Standard Webhooks signing (standardwebhooks.com): the signed content is
 * `<webhook-id>.<webhook-timestamp>.<body>`, the key is the base64 after `whsec_`, and the
 * header lists one `v1,<base64 HMAC-SHA256>` per secret, separated by spaces, so receivers
 * keep verifying while a rotated secret is still in its grace period.
 */
import { hmacSha256, importHmacKey } from '../lib/crypto'
import { fromBase64, toBase64 } from '../lib/encoding'
import type { PreviousSecret } from '../schemas/destination'

const PREFIX = 'whsec_'

/**
 * Imported signing keys by secret, so a destination's key is imported once rather than
 * for every attempt. Bounded: past the limit the oldest entry goes, and a secret that
 * was rotated away simply ages out.
 */
const signingKeys = new Map<string, Promise<CryptoKey>>()
const SIGNING_KEYS_KEPT = 256

function signingKey(secret: string): Promise<CryptoKey> {
  let key = signingKeys.get(secret)
  if (!key) {
    key = importHmacKey(secretKey(secret))
    if (signingKeys.size >= SIGNING_KEYS_KEPT) {
      const oldest = signingKeys.keys().next().value
      if (oldest !== undefined) signingKeys.delete(oldest)
    }
    signingKeys.set(secret, key)
  }
  return key
}

/** The raw key bytes of a `whsec_` secret. */
export function secretKey(secret: string): Uint8Array<ArrayBuffer> {
  if (!secret.startsWith(PREFIX)) throw new Error('webhook secret must start with whsec_')
  return fromBase64(secret.slice(PREFIX.length))
}

/** One `v1,` signature of `id.timestamp.body` under one secret. */
export async function signatureFor(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): Promise<string> {
  const mac = await hmacSha256(await signingKey(secret), `${id}.${timestamp}.${body}`)
  return `v1,${toBase64(mac)}`
}

/** The secrets that sign now: the current one, then every previous one still in grace. */
export function signingSecrets(
  current: string,
  previous: readonly PreviousSecret[],
  now = Date.now(),
): string[] {
  const inGrace = previous.filter((entry) => Date.parse(entry.expiresAt) > now)
  return [current, ...inGrace.map((entry) => entry.secret)]
}

/** The `webhook-signature` header value: space-separated `v1,` signatures. */
export async function signatureHeader(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): Promise<string> {
  const signatures = await Promise.all(
    secrets.map((secret) => signatureFor(secret, id, timestamp, body)),
  )
  return signatures.join(' ')
}
