/**
 * How a destination appears in API responses and audit entries: the create body's shape
 * with ids and state added, every secret masked (`****` and the last four characters),
 * except the secrets the service generated in the very response that reveals them.
 */
import type { DeliveryPolicy, DestinationType } from '../../schemas/destination'
import type { DestinationRecord } from './repository'
import { previousSecretsInGrace } from './sealing'
import { maskSecret, maskSecrets } from './secret-fields'

export interface DestinationView {
  id: string
  organizationId: string
  label: string
  type: DestinationType
  description: string | null
  config: Record<string, unknown>
  isDefault: boolean
  disabled: boolean
  disabledReason: string | null
  delivery: DeliveryPolicy
  /** Webhook only: rotated-out secrets (masked) that still sign until `expiresAt`. */
  previousSecrets?: Array<{ secret: string; expiresAt: string }>
  createdAt: string
  updatedAt: string
}

/**
 * Renders a destination with its secrets masked. `reveal` lists pointers (relative to the
 * type's config, such as `/secret`) to show in full: only for secrets just generated.
 */
export function maskDestination(
  record: DestinationRecord,
  options: { reveal?: readonly string[]; now?: number } = {},
): DestinationView {
  const view: DestinationView = {
    id: record.id,
    organizationId: record.organizationId,
    label: record.label,
    type: record.type,
    description: record.description,
    config: { [record.type]: maskSecrets(record.type, record.config, options.reveal) },
    isDefault: record.isDefault,
    disabled: record.disabled,
    disabledReason: record.disabledReason,
    delivery: record.delivery,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  }
  if (record.type === 'webhook') {
    view.previousSecrets = previousSecretsInGrace(
      record.previousSecrets,
      options.now ?? Date.now(),
    ).map((entry) => ({ secret: maskSecret(entry.secret), expiresAt: entry.expiresAt }))
  }
  return view
}
