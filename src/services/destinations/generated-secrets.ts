/**
 * Secrets the service makes for a destination when the tenant gives none: a webhook
 * signing secret (`whsec_` and the base64 of 32 random bytes, Standard Webhooks) and an
 * e-mail encryption key (base64 of 32 random bytes, AES-256-GCM). Each appears in full in
 * the one response that created it.
 */
import { toBase64 } from '../../lib/encoding'
import type { CreateDestinationInput } from '../../schemas/destination'

export function generateWebhookSecret(): string {
  return `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`
}

export function generateEncryptionKey(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(32)))
}

/**
 * Fills in the secrets a validated input lacks, in place, and returns the pointers
 * (relative to the type's config) of those it generated, so the response can show them.
 */
export function fillGeneratedSecrets(input: CreateDestinationInput): string[] {
  const generated: string[] = []
  const webhook = input.config.webhook
  if (input.type === 'webhook' && webhook && webhook.secret === undefined) {
    webhook.secret = generateWebhookSecret()
    generated.push('/secret')
  }
  const encryption = input.config.email?.encryption
  if (input.type === 'email' && encryption?.enabled && encryption.key === undefined) {
    encryption.key = generateEncryptionKey()
    generated.push('/encryption/key')
  }
  return generated
}
