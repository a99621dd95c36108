/** Byte and text encodings shared by the crypto helpers and handlers. */
const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const utf8 = {
  encode: (text: string): Uint8Array<ArrayBuffer> =>
    encoder.encode(text) as Uint8Array<ArrayBuffer>,
  decode: (bytes: ArrayBuffer | Uint8Array): string => decoder.decode(bytes),
}

// The runtime's native encoders (ES2026 `Uint8Array.prototype.toBase64` / `toHex`), which
// the ES2024 library types do not declare yet. Ingest seals and hashes every payload with them.
declare global {
  interface Uint8Array {
    toBase64(options?: { alphabet?: 'base64' | 'base64url'; omitPadding?: boolean }): string
    toHex(): string
  }
}

function view(bytes: ArrayBuffer | Uint8Array): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
}

export function toBase64(bytes: ArrayBuffer | Uint8Array): string {
  return view(bytes).toBase64()
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

export function toBase64Url(bytes: ArrayBuffer | Uint8Array): string {
  return view(bytes).toBase64({ alphabet: 'base64url', omitPadding: true })
}

export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const padded = text.replaceAll('-', '+').replaceAll('_', '/')
  return fromBase64(padded + '='.repeat((4 - (padded.length % 4)) % 4))
}

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  return view(bytes).toHex()
}
