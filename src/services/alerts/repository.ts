/**
 * Alert rules in D1. Every query of one organization's rules takes its id first, so a
 * rule id of another organization finds nothing. Writes are prepared statements, batched
 * by callers with their audit entry; firing is claimed with a compare-and-set on
 * `last_fired_at`, so two overlapping cron runs cannot both send the same alert.
 */
import { and, asc, eq, gt, or, type SQL } from 'drizzle-orm'
import { database } from '../../db/client'
import { alertRules, organizations } from '../../db/schema'
import type { AlertKind, AlertRule } from '../../schemas/alert-rule'

type Row = typeof alertRules.$inferSelect

export function toAlertRule(row: Row): AlertRule {
  return {
    id: row.id,
    organizationId: row.organizationId,
    name: row.name,
    kind: row.kind as AlertKind,
    condition: JSON.parse(row.condition) as Record<string, unknown>,
    destinationId: row.destinationId,
    notify: JSON.parse(row.notify) as string[],
    cooldownMinutes: row.cooldownMinutes,
    enabled: row.enabled,
    lastFiredAt: row.lastFiredAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

const scoped = (organizationId: string, id: string) =>
  and(eq(alertRules.organizationId, organizationId), eq(alertRules.id, id))

export async function findAlertRule(
  db: D1Database,
  organizationId: string,
  id: string,
): Promise<AlertRule | null> {
  const row = await database(db).select().from(alertRules).where(scoped(organizationId, id)).get()
  return row ? toAlertRule(row) : null
}

/** A page of the organization's rules in creation order, after the cursor's row. */
export async function listAlertRules(
  db: D1Database,
  organizationId: string,
  page: { after: { createdAt: string; id: string } | null; limit: number },
): Promise<AlertRule[]> {
  const { after } = page
  const conditions: (SQL | undefined)[] = [
    eq(alertRules.organizationId, organizationId),
    after
      ? or(
          gt(alertRules.createdAt, after.createdAt),
          and(eq(alertRules.createdAt, after.createdAt), gt(alertRules.id, after.id)),
        )
      : undefined,
  ]
  const rows = await database(db)
    .select()
    .from(alertRules)
    .where(and(...conditions))
    .orderBy(asc(alertRules.createdAt), asc(alertRules.id))
    .limit(page.limit)
    .all()
  return rows.map(toAlertRule)
}

/** Enabled rules of active organizations, grouped by organization, for the evaluator. */
export async function enabledAlertRules(db: D1Database): Promise<AlertRule[]> {
  const rows = await database(db)
    .select({ rule: alertRules })
    .from(alertRules)
    .innerJoin(organizations, eq(organizations.id, alertRules.organizationId))
    .where(and(eq(alertRules.enabled, true), eq(organizations.status, 'active')))
    .orderBy(asc(alertRules.organizationId), asc(alertRules.createdAt))
    .all()
  return rows.map(({ rule }) => toAlertRule(rule))
}

/** Ids of the organization's rules that watch or notify the destination, in creation order. */
export async function alertRulesUsing(
  db: D1Database,
  organizationId: string,
  destinationId: string,
): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT id FROM alert_rules
       WHERE organization_id = ?1
         AND (destination_id = ?2 OR EXISTS (SELECT 1 FROM json_each(notify) WHERE value = ?2))
       ORDER BY created_at, id`,
    )
    .bind(organizationId, destinationId)
    .all<{ id: string }>()
  return results.map((row) => row.id)
}

/** Inserts or replaces a rule's stored fields (everything but `lastFiredAt`). */
export function saveStatement(db: D1Database, rule: AlertRule): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO alert_rules (id, organization_id, name, kind, condition, destination_id, notify, cooldown_minutes, enabled, last_fired_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, condition = excluded.condition,
         destination_id = excluded.destination_id, notify = excluded.notify, cooldown_minutes = excluded.cooldown_minutes,
         enabled = excluded.enabled, updated_at = excluded.updated_at
       WHERE alert_rules.organization_id = excluded.organization_id`,
    )
    .bind(
      rule.id,
      rule.organizationId,
      rule.name,
      rule.kind,
      JSON.stringify(rule.condition),
      rule.destinationId,
      JSON.stringify(rule.notify),
      rule.cooldownMinutes,
      rule.enabled ? 1 : 0,
      rule.lastFiredAt,
      rule.createdAt,
      rule.updatedAt,
    )
}

export function deleteStatement(
  db: D1Database,
  organizationId: string,
  id: string,
): D1PreparedStatement {
  return db
    .prepare('DELETE FROM alert_rules WHERE organization_id = ? AND id = ?')
    .bind(organizationId, id)
}

/**
 * Moves `last_fired_at` from `previous` to `next`; false when another run moved it first
 * (or the rule was deleted or disabled meanwhile). Also undoes a claim whose alert could
 * not be sent, with the two values swapped.
 */
export async function moveLastFired(
  db: D1Database,
  rule: Pick<AlertRule, 'id' | 'organizationId'>,
  previous: string | null,
  next: string | null,
): Promise<boolean> {
  const result = await db
    .prepare(
      'UPDATE alert_rules SET last_fired_at = ? WHERE organization_id = ? AND id = ? AND enabled = 1 AND last_fired_at IS ?',
    )
    .bind(next, rule.organizationId, rule.id, previous)
    .run()
  return result.meta.changes === 1
}
