/**
 * Changes to alert rules: create, update, delete. Each checks the destinations the rule
 * names and is written in one D1 batch with its audit entry, so the trail never misses a
 * change and never records one that did not happen.
 */
import { ApiError } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { validationError } from '../../lib/router'
import {
  type AlertRule,
  CONDITION_SCHEMAS,
  type CreateAlertRuleInput,
  CreateAlertRuleSchema,
  type UpdateAlertRuleInput,
} from '../../schemas/alert-rule'
import { type AuditChange, auditStatement } from '../audit-log'
import { checkRuleDestinations } from './references'
import { deleteStatement, findAlertRule, saveStatement } from './repository'

export interface AlertRuleContext {
  db: D1Database
  organizationId: string
  actor: string
  requestId: string | null
}

async function commit(
  ctx: AlertRuleContext,
  statement: D1PreparedStatement,
  change: Omit<AuditChange, 'organizationId' | 'resourceType'>,
): Promise<void> {
  await ctx.db.batch([
    statement,
    auditStatement(
      ctx.db,
      { ...change, organizationId: ctx.organizationId, resourceType: 'alert_rule' },
      ctx.actor,
      ctx.requestId,
    ),
  ])
}

function notFound(id: string): ApiError {
  return new ApiError('not_found', `Alert rule "${id}" does not exist`)
}

export async function requireAlertRule(ctx: AlertRuleContext, id: string): Promise<AlertRule> {
  const rule = await findAlertRule(ctx.db, ctx.organizationId, id)
  if (!rule) throw notFound(id)
  return rule
}

export async function createAlertRule(
  ctx: AlertRuleContext,
  input: CreateAlertRuleInput,
): Promise<AlertRule> {
  await checkRuleDestinations(ctx.db, ctx.organizationId, input)
  const now = new Date().toISOString()
  const rule: AlertRule = {
    id: newId('alertRule'),
    organizationId: ctx.organizationId,
    name: input.name,
    kind: input.kind,
    condition: input.condition,
    destinationId: input.destinationId,
    notify: [...new Set(input.notify)],
    cooldownMinutes: input.cooldownMinutes,
    enabled: input.enabled,
    lastFiredAt: null,
    createdAt: now,
    updatedAt: now,
  }
  await commit(ctx, saveStatement(ctx.db, rule), {
    action: 'alert_rule.created',
    resourceId: rule.id,
    after: rule,
  })
  return rule
}

/**
 * Applies a partial update. The result is validated as a whole, so a condition is checked
 * against the rule's kind; changing the kind needs a condition of the new kind.
 */
export async function updateAlertRule(
  ctx: AlertRuleContext,
  id: string,
  patch: UpdateAlertRuleInput,
): Promise<AlertRule> {
  const current = await requireAlertRule(ctx, id)
  if (patch.kind !== undefined && patch.kind !== current.kind && patch.condition === undefined) {
    throw new ApiError('validation_error', 'condition: is required when kind changes', {
      details: { issues: [{ path: 'condition', message: 'is required when kind changes' }] },
    })
  }
  const { organizationId: _organizationId, ...fields } = patch
  const merged = { ...pick(current), ...stripUndefined(fields) }
  const parsed = CreateAlertRuleSchema.safeParse(merged)
  if (!parsed.success) throw validationError(parsed.error.issues)
  await checkRuleDestinations(ctx.db, ctx.organizationId, parsed.data)
  const next: AlertRule = {
    ...current,
    name: parsed.data.name,
    kind: parsed.data.kind,
    condition: CONDITION_SCHEMAS[parsed.data.kind].parse(parsed.data.condition),
    destinationId: parsed.data.destinationId,
    notify: [...new Set(parsed.data.notify)],
    cooldownMinutes: parsed.data.cooldownMinutes,
    enabled: parsed.data.enabled,
    updatedAt: new Date().toISOString(),
  }
  await commit(ctx, saveStatement(ctx.db, next), {
    action: 'alert_rule.updated',
    resourceId: id,
    before: current,
    after: next,
  })
  return next
}

export async function deleteAlertRule(ctx: AlertRuleContext, id: string): Promise<void> {
  const current = await requireAlertRule(ctx, id)
  await commit(ctx, deleteStatement(ctx.db, ctx.organizationId, id), {
    action: 'alert_rule.deleted',
    resourceId: id,
    before: current,
  })
}

/** The fields a client may set, as stored. */
function pick(rule: AlertRule) {
  const { name, kind, condition, destinationId, notify, cooldownMinutes, enabled } = rule
  return { name, kind, condition, destinationId, notify, cooldownMinutes, enabled }
}

function stripUndefined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
