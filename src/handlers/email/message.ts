/**
 * The provider-neutral e-mail built for one attempt. Subject and bodies come from the
 * destination's templates; the envelope always travels as one attachment:
 * `<deliveryId>.json` (application/json) in the clear, or `<deliveryId>.encrypted.json`
 * (see `encryption.ts`) when encryption is enabled, in which case the body holds only
 * the rendered template. Building the message is deterministic, so every retry sends the
 * same bytes and provider idempotency can recognise it.
 */

import { toBase64, utf8 } from '../../lib/encoding'
import type { EmailConfig } from '../../schemas/destination'
import type { DeliveryJob, Outcome } from '../types'
import { encryptAttachment } from './encryption'
import { renderHtml, renderSubject, renderText, templateView } from './render'

/** Used when a destination has no body template of its own. */
export const DEFAULT_BODY_TEMPLATE =
  'Audit event {{delivery.type}} (delivery {{delivery.id}}, sequence {{delivery.sequence}}) for organization {{delivery.organizationId}}, accepted {{delivery.acceptedAt}}. The event is attached.'

/** Header carrying the stable per-(delivery, destination) id receivers deduplicate on. */
export const MESSAGE_ID_HEADER = 'X-Audit-Message-Id'
export const DELIVERY_ID_HEADER = 'X-Audit-Delivery-Id'

export interface OutgoingEmail {
  from: string
  to: string[]
  subject: string
  text: string
  html: string | null
  attachment: { filename: string; contentType: string; contentBase64: string }
  /** Extra headers (ids only: never payload values). */
  headers: Record<string, string>
  /** The stable id: idempotency key and Message-ID seed. */
  messageId: string
}

function permanent(code: string, message: string): Outcome {
  return { kind: 'permanent', code, message }
}

/** Builds the message, or a permanent outcome when a template or the key is unusable. */
export async function composeEmail(
  job: DeliveryJob,
  config: EmailConfig,
  destinationId: string,
): Promise<OutgoingEmail | Outcome> {
  let subject: string
  let text: string
  let html: string | null
  try {
    const view = templateView(job)
    subject = renderSubject(config.subject, view)
    text = renderText(config.bodyTemplate ?? DEFAULT_BODY_TEMPLATE, view)
    html = config.htmlTemplate === undefined ? null : renderHtml(config.htmlTemplate, view)
  } catch (error) {
    return permanent(
      'template_error',
      `The e-mail template cannot be rendered: ${(error as Error).message}`,
    )
  }

  let attachment: OutgoingEmail['attachment']
  if (config.encryption?.enabled) {
    if (!config.encryption.key)
      return permanent(
        'encryption_key_missing',
        'Encryption is enabled but the destination has no key',
      )
    try {
      const aad = `${job.organizationId}/${job.deliveryId}/${destinationId}`
      const sealed = await encryptAttachment(config.encryption.key, job.envelope, aad)
      attachment = {
        filename: `${job.deliveryId}.encrypted.json`,
        contentType: 'application/json',
        contentBase64: toBase64(utf8.encode(sealed)),
      }
    } catch (error) {
      return permanent('encryption_key_invalid', (error as Error).message)
    }
  } else {
    attachment = {
      filename: `${job.deliveryId}.json`,
      contentType: 'application/json',
      contentBase64: toBase64(utf8.encode(job.envelope)),
    }
  }

  return {
    from: config.from,
    to: config.recipients,
    subject,
    text,
    html,
    attachment,
    headers: { [MESSAGE_ID_HEADER]: job.messageId, [DELIVERY_ID_HEADER]: job.deliveryId },
    messageId: job.messageId,
  }
}

/** Whether a compose result is the message (and not a failure outcome). */
export function isEmail(value: OutgoingEmail | Outcome): value is OutgoingEmail {
  return !('kind' in value)
}
