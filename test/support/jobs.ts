/**
 * Builders for delivery jobs and loaded destinations, so handler tests call handlers
 * directly with exactly the inputs the queue consumer would give them.
 */
import { buildEnvelope, messageIdFor } from '../../src/delivery/envelope'
import type { DeliveryJob } from '../../src/handlers/types'
import { newId } from '../../src/lib/ids'
import type { LoadedDestination } from '../../src/schemas/destination'

type Payload = Partial<
  Pick<
    DeliveryJob,
    'payloadType' | 'data' | 'metadata' | 'correlationId' | 'tags' | 'acceptedAt' | 'sequence'
  >
>

/** A job for one delivery to one destination, with an envelope built as ingest builds it. */
export function makeJob(
  destinationId: string,
  payload: Payload = {},
  organizationId = 'hospital-001',
): DeliveryJob {
  const deliveryId = newId('delivery')
  const fields = {
    deliveryId,
    payloadType: payload.payloadType ?? 'phi-access-audit',
    acceptedAt: payload.acceptedAt ?? '2026-03-07T04:05:06.789Z',
    organizationId,
    sequence: payload.sequence ?? 42,
    data:
      payload.data ??
      '{"patientId":"P-1001","userId":"dr.smith","action":"read","bigId":12345678901234567890}',
    metadata: payload.metadata === undefined ? '{"eventType":"phi-access"}' : payload.metadata,
    correlationId: payload.correlationId === undefined ? 'corr-7' : payload.correlationId,
    tags: payload.tags ?? ['hipaa', 'phi-access'],
  }
  return {
    ...fields,
    destinationId,
    messageId: messageIdFor(deliveryId, destinationId),
    attempt: 1,
    envelope: buildEnvelope(fields),
    requestId: null,
  }
}

const base = (organizationId: string) => ({
  id: newId('destination'),
  organizationId,
  label: `test ${crypto.randomUUID()}`,
  description: null,
  isDefault: false,
  disabled: false,
  disabledReason: null,
  delivery: { ordering: 'parallel' as const, onExhausted: 'skip' as const },
  createdAt: '2026-03-01T00:00:00.000Z',
  updatedAt: '2026-03-01T00:00:00.000Z',
})

type Of<T extends LoadedDestination['type']> = Extract<LoadedDestination, { type: T }>

export function webhookDestination(
  config: Partial<Of<'webhook'>['config']> & { url: string },
  organizationId = 'hospital-001',
): Of<'webhook'> {
  return {
    ...base(organizationId),
    type: 'webhook',
    config: {
      method: 'POST',
      headers: {},
      timeout: 5000,
      secret: randomWebhookSecret(),
      previousSecrets: [],
      ...config,
    },
  }
}

export function storageDestination(
  config: Of<'storage'>['config'],
  organizationId = 'hospital-001',
): Of<'storage'> {
  return { ...base(organizationId), type: 'storage', config }
}

export function emailDestination(
  config: Partial<Of<'email'>['config']> & Pick<Of<'email'>['config'], 'service'>,
  organizationId = 'hospital-001',
): Of<'email'> {
  return {
    ...base(organizationId),
    type: 'email',
    config: {
      config: {},
      from: 'hipaa-audit@hospital.test',
      recipients: ['compliance@hospital.test'],
      subject: '[HIPAA] Audit Event Notification - {{eventType}}',
      ...config,
    },
  }
}

export function downloadDestination(
  config: Partial<Of<'download'>['config']> = {},
  organizationId = 'hospital-001',
): Of<'download'> {
  return {
    ...base(organizationId),
    type: 'download',
    config: { expiresIn: 3600, maxDownloads: 3, ...config },
  }
}

/** A fresh `whsec_` secret (24 random bytes, as the destinations API generates). */
export function randomWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24))
  return `whsec_${btoa(String.fromCharCode(...bytes))}`
}

/** A fresh AES-256 key in base64. */
export function randomAesKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return btoa(String.fromCharCode(...bytes))
}
