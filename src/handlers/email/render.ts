/**
 * E-mail templates: Mustache `{{placeholders}}` filled from the payload's `data`, then its
 * `metadata`, then `delivery` (id, type, organizationId, sequence, acceptedAt,
 * correlationId). So `{{patientId}}` reads `data.patientId` and `{{eventType}}` reads
 * `metadata.eventType` unless `data` has one too. Dotted names reach into objects; an
 * object or array value renders as its JSON; a missing name renders as nothing.
 *
 * HTML bodies escape every value, including `{{{triple}}}` and `{{&ampersand}}` tags, since
 * payload values come from systems the tenant does not fully control. Subjects are
 * rendered as text and then lose every CR, LF and other control character, so nothing a
 * payload holds can start a new header line.
 */
import Mustache from 'mustache'
import type { DeliveryJob } from '../types'

type TemplateJob = Pick<
  DeliveryJob,
  | 'data'
  | 'metadata'
  | 'deliveryId'
  | 'payloadType'
  | 'organizationId'
  | 'sequence'
  | 'acceptedAt'
  | 'correlationId'
>

/** Subjects are at most this long (RFC 5322's line limit). */
const SUBJECT_LIMIT = 998

function asObject(json: string | null): Record<string, unknown> {
  if (json === null) return {}
  const value: unknown = JSON.parse(json)
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}

/** What placeholders can name, in lookup order: data, then metadata, then `delivery`. */
export function templateView(job: TemplateJob): Record<string, unknown> {
  const delivery = {
    id: job.deliveryId,
    type: job.payloadType,
    organizationId: job.organizationId,
    sequence: job.sequence,
    acceptedAt: job.acceptedAt,
    correlationId: job.correlationId,
  }
  return { delivery, ...asObject(job.metadata), ...asObject(job.data) }
}

const asText = (value: unknown): string =>
  typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)

const textWriter = new Mustache.Writer()
const htmlWriter = new Mustache.Writer()
// Unescaped tags still escape in HTML: the payload must never inject markup.
htmlWriter.unescapedValue = function (this: Mustache.Writer, token, context) {
  return this.escapedValue(token, context, { escape: escapeHtml })
}

/** Mustache's own HTML escaping, applied to the JSON of objects too. */
export function escapeHtml(value: unknown): string {
  return Mustache.escape(asText(value))
}

/** Renders a plain-text template: values as they are. */
export function renderText(template: string, view: Record<string, unknown>): string {
  return textWriter.render(template, view, {}, { escape: asText })
}

/** Renders an HTML template: every value HTML-escaped. */
export function renderHtml(template: string, view: Record<string, unknown>): string {
  return htmlWriter.render(template, view, {}, { escape: escapeHtml })
}

/** Renders a subject and makes it one safe header line. */
export function renderSubject(template: string, view: Record<string, unknown>): string {
  return renderText(template, view)
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, SUBJECT_LIMIT)
}
