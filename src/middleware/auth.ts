/**
 * Bearer authentication. Admin routes take the operator's `ADMIN_TOKEN`; every other /v1
 * route takes a tenant key, checked by the key's own organization object so that a
 * revocation holds from the next request on. Failures answer 401 with WWW-Authenticate.
 */
import type { MiddlewareHandler } from 'hono'
import { organizationStub } from '../durable-objects/organization-stub'
import type { AppEnv } from '../env'
import { parseApiKey } from '../lib/api-key-format'
import { constantTimeEqual, sha256Hex } from '../lib/crypto'
import { ApiError } from '../lib/errors'

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="audit-delivery"' }

function bearer(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  return match ? (match[1] as string) : null
}

function unauthorized(message: string): ApiError {
  return new ApiError('unauthorized', message, { headers: CHALLENGE })
}

export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header('authorization'))
  if (!token) throw unauthorized('Authorization: Bearer <admin token> is required')
  if (!c.env.ADMIN_TOKEN || !constantTimeEqual(token, c.env.ADMIN_TOKEN))
    throw unauthorized('The admin token is not valid')
  c.set('principal', { kind: 'admin' })
  return next()
}

/** Organizations seen in D1 recently, per isolate: a known id skips the lookup for a minute. */
const knownOrganizations = new Map<string, number>()
const KNOWN_FOR_MS = 60_000

/**
 * Whether the organization exists, checked in D1 before its object is asked: a key made up
 * for an invented organization must not create an object (and its storage) for it.
 */
async function organizationExists(db: D1Database, organizationId: string): Promise<boolean> {
  const now = Date.now()
  if (now - (knownOrganizations.get(organizationId) ?? 0) < KNOWN_FOR_MS) return true
  const row = await db
    .prepare('SELECT 1 AS found FROM organizations WHERE id = ?')
    .bind(organizationId)
    .first()
  if (row) knownOrganizations.set(organizationId, now)
  return row !== null
}

export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header('authorization'))
  if (!token) throw unauthorized('Authorization: Bearer <api key> is required')
  const parsed = parseApiKey(token)
  if (!parsed || !(await organizationExists(c.env.DB, parsed.organizationId))) {
    throw unauthorized('The API key is not valid')
  }
  const check = await organizationStub(c.env, parsed.organizationId).authenticate(
    parsed.keyId,
    await sha256Hex(token),
  )
  if (!check.ok) {
    if (check.reason === 'organization_disabled')
      throw new ApiError('organization_disabled', 'The organization is disabled')
    throw unauthorized(
      check.reason === 'unknown' ? 'The API key is not valid' : `The API key is ${check.reason}`,
    )
  }
  c.set('principal', { kind: 'apiKey', organizationId: parsed.organizationId, keyId: parsed.keyId })
  c.set('organizationId', parsed.organizationId)
  // Any route may name the organization in its query; it must be the key's own.
  const inQuery = c.req.query('organizationId')
  if (inQuery !== undefined) scopedOrganization(parsed.organizationId, inQuery)
  return next()
}

/**
 * Resolves an `organizationId` given in a body or query against the key's organization:
 * absent means the key's own; a different one is 403 `organization_mismatch`.
 */
export function scopedOrganization(
  keyOrganization: string,
  requested: string | undefined,
  field = 'organizationId',
): string {
  if (requested !== undefined && requested !== keyOrganization) {
    throw new ApiError(
      'organization_mismatch',
      `${field} "${requested}" is not the organization of this API key`,
      {
        details: {
          issues: [{ path: field, message: "does not match the API key's organization" }],
        },
      },
    )
  }
  return keyOrganization
}
