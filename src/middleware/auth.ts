/**
 * Bearer authentication. Admin routes take the operator's `ADMIN_TOKEN`; every other /v1
 * route takes a tenant key, checked by the key's own organization object so that a
 * revocation holds from the next request on. Failures answer 401 with WWW-Authenticate.
 *
 * The two ingest routes get the object's verdict from their own `accept` call instead of
 * a call of their own (one round trip per request on the hottest path); see
 * `ApiKeyCheck` for what keeps that as strict as the check before the route.
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { KeyCheck, KeyCredentials } from '../durable-objects/organization/api-keys'
import { organizationStub } from '../durable-objects/organization-stub'
import type { AppEnv } from '../env'
import { parseApiKey } from '../lib/api-key-format'
import { constantTimeEqual, sha256Hex } from '../lib/crypto'
import { ApiError } from '../lib/errors'

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="audit-delivery"' }

/** Routes (method and exact path) whose handler has the key checked inside `accept`. */
const CHECKED_BY_ACCEPT = new Set(['POST /v1/deliveries', 'POST /v1/deliveries/batch'])

/**
 * Above this declared body size the key is checked before the route even so: an unknown
 * or revoked key must not get a large body parsed and sealed before its 401, and one more
 * round trip is nothing next to that work.
 */
const DEFERRED_CHECK_MAX_BODY_BYTES = 32 * 1024

function bearer(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  return match ? (match[1] as string) : null
}

function unauthorized(message: string): ApiError {
  return new ApiError('unauthorized', message, { headers: CHALLENGE })
}

/** The error of a key the organization's object refused, wherever the check ran. */
function refusal(reason: Extract<KeyCheck, { ok: false }>['reason']): ApiError {
  if (reason === 'organization_disabled')
    return new ApiError('organization_disabled', 'The organization is disabled')
  return unauthorized(
    reason === 'unknown' ? 'The API key is not valid' : `The API key is ${reason}`,
  )
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

/**
 * A tenant key that passed the cheap checks (shape, organization in D1), and its object's
 * verdict once known. Until an accepting verdict is recorded the request is not
 * authenticated: no `principal` or `organizationId` is set, so no route can take the key
 * for a checked one. A refusing verdict is final and answers exactly what the check before
 * the route answers. On the ingest routes the verdict may come from `accept`; if the route
 * ends without one, the middleware asks after it and a refusal replaces whatever the route
 * answered.
 */
export class ApiKeyCheck {
  private verdict: KeyCheck | null = null
  private asking: Promise<KeyCheck> | null = null

  constructor(
    /** The organization the key names; not yet proven to be the caller's. */
    readonly organizationId: string,
    /** What the object checks the key by; pass them to `accept`. */
    readonly credentials: KeyCredentials,
    private readonly ask: () => Promise<KeyCheck>,
    private readonly onAccepted: () => void,
  ) {}

  /** Records the object's verdict; throws the refusal when the key failed. */
  settle(verdict: KeyCheck): void {
    if (this.verdict?.ok !== false) this.verdict = verdict
    if (!this.verdict.ok) throw refusal(this.verdict.reason)
    this.onAccepted()
  }

  /** Whether the object refused the key (a refusal is final). */
  get refused(): boolean {
    return this.verdict?.ok === false
  }

  /** Asks the object now unless a verdict is in: before work the `accept` call does not cover. */
  async confirm(): Promise<void> {
    if (!this.verdict) {
      this.asking ??= this.ask()
      const verdict = await this.asking
      this.verdict ??= verdict
    }
    this.settle(this.verdict)
  }
}

function authenticated(c: Context<AppEnv>, organizationId: string, keyId: string): void {
  c.set('principal', { kind: 'apiKey', organizationId, keyId })
  c.set('organizationId', organizationId)
}

export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header('authorization'))
  if (!token) throw unauthorized('Authorization: Bearer <api key> is required')
  const parsed = parseApiKey(token)
  if (!parsed || !(await organizationExists(c.env.DB, parsed.organizationId))) {
    throw unauthorized('The API key is not valid')
  }
  const { organizationId, keyId } = parsed
  const credentials = { keyId, keyHash: await sha256Hex(token) }
  const check = new ApiKeyCheck(
    organizationId,
    credentials,
    () => organizationStub(c.env, organizationId).authenticate(keyId, credentials.keyHash),
    () => authenticated(c, organizationId, keyId),
  )
  c.set('apiKeyCheck', check)
  // Any route may name the organization in its query; it must be the key's own.
  const inQuery = c.req.query('organizationId')
  if (!CHECKED_BY_ACCEPT.has(`${c.req.method} ${c.req.path}`) || !smallBody(c)) {
    await check.confirm()
    if (inQuery !== undefined) scopedOrganization(organizationId, inQuery)
    return next()
  }
  try {
    if (inQuery !== undefined) scopedOrganization(organizationId, inQuery)
    await next()
  } finally {
    // Whatever the route answered or threw, a refused key answers its refusal.
    await check.confirm()
  }
}

function smallBody(c: Context<AppEnv>): boolean {
  const declared = c.req.header('content-length')
  return declared !== undefined && Number(declared) <= DEFERRED_CHECK_MAX_BODY_BYTES
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
