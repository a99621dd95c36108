/**
 * Object keys of storage destinations: the destination's path template filled from the
 * accept time (UTC, zero-padded) and the delivery, leading and trailing slashes trimmed,
 * then `/<deliveryId>.json`. Every filled value and every resulting segment is checked, so
 * a payload type such as `../x` or `a/b` can never climb out of the template or add a
 * segment, and a key in a bucket shared between tenants starts with the tenant's own id.
 */
import { PATH_PLACEHOLDERS } from '../schemas/destination'
import type { DeliveryJob } from './types'

/** S3's limit for a key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024

export type ObjectKeyResult = { ok: true; key: string } | { ok: false; reason: string }

type KeyJob = Pick<DeliveryJob, 'organizationId' | 'acceptedAt' | 'payloadType' | 'deliveryId'>

const pad = (value: number) => String(value).padStart(2, '0')

function placeholderValues(job: KeyJob): Record<(typeof PATH_PLACEHOLDERS)[number], string> {
  const at = new Date(job.acceptedAt)
  if (Number.isNaN(at.getTime())) throw new Error(`acceptedAt is not a date: ${job.acceptedAt}`)
  return {
    organizationId: job.organizationId,
    year: String(at.getUTCFullYear()),
    month: pad(at.getUTCMonth() + 1),
    day: pad(at.getUTCDate()),
    hour: pad(at.getUTCHours()),
    type: job.payloadType,
    deliveryId: job.deliveryId,
  }
}

function segmentProblem(segment: string): string | null {
  if (segment === '') return 'an empty segment (//)'
  if (segment === '.' || segment === '..') return `a "${segment}" segment`
  if (/[\p{Cc}\\]/u.test(segment)) return 'a control character or backslash'
  return null
}

/**
 * Fills `template` for `job`. With `requireOrganizationPrefix` (a bucket shared between
 * tenants) the key must begin with the organization's id as its first segment.
 */
export function objectKeyFor(
  template: string,
  job: KeyJob,
  options: { requireOrganizationPrefix?: boolean } = {},
): ObjectKeyResult {
  const values = placeholderValues(job)
  let problem: string | null = null
  const filled = template.replace(/\{([^{}]*)\}/g, (whole, name: string) => {
    if (!(PATH_PLACEHOLDERS as readonly string[]).includes(name)) {
      problem ??= `unknown placeholder ${whole}`
      return whole
    }
    const value = values[name as keyof typeof values]
    if (value.includes('/')) problem ??= `{${name}} value "${value}" contains "/"`
    const valueProblem = segmentProblem(value)
    if (valueProblem) problem ??= `{${name}} value "${value}" would make ${valueProblem}`
    return value
  })
  if (problem) return { ok: false, reason: problem }

  const prefix = filled.replace(/^\/+|\/+$/g, '')
  const key = prefix === '' ? `${job.deliveryId}.json` : `${prefix}/${job.deliveryId}.json`
  for (const segment of key.split('/')) {
    const segmentIssue = segmentProblem(segment)
    if (segmentIssue) return { ok: false, reason: `the key "${key}" would contain ${segmentIssue}` }
  }
  if (new TextEncoder().encode(key).byteLength > MAX_KEY_BYTES)
    return { ok: false, reason: `the key is longer than ${MAX_KEY_BYTES} bytes` }
  if (options.requireOrganizationPrefix && !key.startsWith(`${job.organizationId}/`)) {
    return {
      ok: false,
      reason: `in a shared bucket the key must start with "${job.organizationId}/", got "${key}"`,
    }
  }
  return { ok: true, key }
}
