/**
 * The service's own audit trail: every change to destinations, keys and settings, with
 * who made it and masked before/after snapshots. Callers pass already-masked values.
 */
import type { Context } from 'hono'
import type { AppEnv } from '../env'
import { newId } from '../lib/ids'

export interface AuditChange {
  organizationId: string
  action: string
  resourceType:
    | 'destination'
    | 'api_key'
    | 'settings'
    | 'organization'
    | 'alert_rule'
    | 'delivery'
    | 'download'
  resourceId: string
  before?: unknown
  after?: unknown
}

/** Who acted, as recorded: `admin` or `api_key:<keyId>`, or `system` for automatic changes. */
export function actorOf(c: Context<AppEnv>): string {
  const principal = c.get('principal')
  if (!principal) return 'system'
  return principal.kind === 'admin' ? 'admin' : `api_key:${principal.keyId}`
}

/** The insert statement for one change, so callers can batch it with the change itself. */
export function auditStatement(
  db: D1Database,
  change: AuditChange,
  actor: string,
  requestId: string | null,
): D1PreparedStatement {
  return db
    .prepare(
      'INSERT INTO audit_log (id, organization_id, actor, action, resource_type, resource_id, before, after, request_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    .bind(
      newId('auditEntry'),
      change.organizationId,
      actor,
      change.action,
      change.resourceType,
      change.resourceId,
      change.before === undefined ? null : JSON.stringify(change.before),
      change.after === undefined ? null : JSON.stringify(change.after),
      requestId,
      new Date().toISOString(),
    )
}

/** Records one change on its own (when it cannot join the change's own batch). */
export async function recordAudit(c: Context<AppEnv>, change: AuditChange): Promise<void> {
  await auditStatement(c.env.DB, change, actorOf(c), c.get('requestId') ?? null).run()
}
