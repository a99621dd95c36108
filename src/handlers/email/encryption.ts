/**
 * The encrypted e-mail attachment. With encryption enabled the envelope travels only as
 * the attachment `<deliveryId>.encrypted.json` (content type `application/json`), whose
 * text is this JSON object:
 *
 * ```json
 * {
 *   "format": "audit-delivery/encrypted-attachment",
 *   "version": 1,
 *   "algorithm": "AES-256-GCM",
 *   "iv": "<base64 of 12 bytes>",
 *   "aad": "<organizationId>/<deliveryId>/<destinationId>",
 *   "contentType": "application/json",
 *   "ciphertext": "<base64 of the ciphertext followed by the 16-byte GCM tag>"
 * }
 * ```
 *
 * To decrypt: AES-256-GCM with the destination's key (base64 of 32 bytes, shown once when
 * the destination was created), the `iv`, the UTF-8 bytes of `aad` as additional data and
 * a 128-bit tag; the plaintext is the envelope's UTF-8 JSON text.
 *
 * The IV is synthetic: the first 12 bytes of HMAC-SHA256 under a key derived from the
 * destination key, over `aad`, a zero byte and the plaintext. Retries of one delivery thus
 * produce a byte-identical message (providers compare bodies for idempotency), and an IV
 * repeats only for an identical plaintext, which GCM tolerates.
 */
import { hmacSha256 } from '../../lib/crypto'
import { fromBase64, toBase64, utf8 } from '../../lib/encoding'

export const ATTACHMENT_FORMAT = 'audit-delivery/encrypted-attachment'

export interface EncryptedAttachment {
  format: typeof ATTACHMENT_FORMAT
  version: 1
  algorithm: 'AES-256-GCM'
  iv: string
  aad: string
  contentType: 'application/json'
  ciphertext: string
}

/** The destination key as raw bytes; throws when it is not 32 bytes of base64. */
export function attachmentKey(keyBase64: string): Uint8Array<ArrayBuffer> {
  let raw: Uint8Array<ArrayBuffer>
  try {
    raw = fromBase64(keyBase64)
  } catch {
    throw new Error('encryption key is not base64')
  }
  if (raw.byteLength !== 32) throw new Error('encryption key is not 32 bytes')
  return raw
}

async function syntheticIv(
  key: Uint8Array<ArrayBuffer>,
  aad: string,
  plain: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const ivKey = new Uint8Array(await hmacSha256(key, 'audit-delivery attachment iv'))
  const aadBytes = utf8.encode(aad)
  const input = new Uint8Array(aadBytes.byteLength + 1 + plain.byteLength)
  input.set(aadBytes, 0)
  input.set(plain, aadBytes.byteLength + 1)
  return new Uint8Array(await hmacSha256(ivKey, input)).slice(0, 12)
}

/** Encrypts `plaintext` into the attachment's JSON text. */
export async function encryptAttachment(
  keyBase64: string,
  plaintext: string,
  aad: string,
): Promise<string> {
  const raw = attachmentKey(keyBase64)
  const plain = utf8.encode(plaintext)
  const iv = await syntheticIv(raw, aad, plain)
  const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt'])
  const cipher = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: utf8.encode(aad), tagLength: 128 },
    key,
    plain,
  )
  const attachment: EncryptedAttachment = {
    format: ATTACHMENT_FORMAT,
    version: 1,
    algorithm: 'AES-256-GCM',
    iv: toBase64(iv),
    aad,
    contentType: 'application/json',
    ciphertext: toBase64(cipher),
  }
  return JSON.stringify(attachment)
}

/** Opens an attachment's JSON text: the reference decryption receivers can follow. */
export async function decryptAttachment(
  keyBase64: string,
  attachmentText: string,
): Promise<string> {
  const attachment = JSON.parse(attachmentText) as EncryptedAttachment
  if (attachment.format !== ATTACHMENT_FORMAT || attachment.version !== 1)
    throw new Error('not an encrypted attachment of version 1')
  const key = await crypto.subtle.importKey('raw', attachmentKey(keyBase64), 'AES-GCM', false, [
    'decrypt',
  ])
  const plain = await crypto.subtle.decrypt(
    {
      name: 'AES-GCM',
      iv: fromBase64(attachment.iv),
      additionalData: utf8.encode(attachment.aad),
      tagLength: 128,
    },
    key,
    fromBase64(attachment.ciphertext),
  )
  return utf8.decode(plain)
}
