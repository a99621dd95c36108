/**
 * Every change to a destination, as the API (and the secret-rotation cron) makes it:
 * validate, write the row and its audit entry in one D1 batch, then tell the
 * organization's object so that it stops routing by what it cached.
 */
import { organizationStub } from '../../durable-objects/organization-stub'
import type { ServiceEnv } from '../../env'
import { ApiError, type FieldIssue } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { log } from '../../lib/logger'
import { validationError } from '../../lib/router'
import {
  type CreateDestinationInput,
  CreateDestinationSchema,
  DeliveryPolicySchema,
  type UpdateDestinationInput,
} from '../../schemas/destination'
import { alertRulesUsing } from '../alerts/repository'
import { type AuditChange, auditStatement } from '../audit-log'
import { fillGeneratedSecrets, generateWebhookSecret } from './generated-secrets'
import { checkDestinationInput, validationFailure } from './input-checks'
import { applyMergePatch } from './merge-patch'
import {
  type DestinationRecord,
  deleteStatement,
  destinationIdByLabel,
  findDestination,
  insertStatement,
  notifyingDestinations,
  updateStatement,
} from './repository'
import { previousSecretsInGrace } from './sealing'
import { getAt, isMasked, isObject, maskSecret, secretPaths, setAt } from './secret-fields'
import { type DestinationView, maskDestination } from './view'

/** Who changes which organization's destinations, for the audit trail. */
export interface ChangeContext {
  env: ServiceEnv
  organizationId: string
  /** `api_key:<id>`, `admin` or `system`. */
  actor: string
  requestId: string | null
}

const DISABLED_BY_API = 'disabled through the API'
/** Rotated-out secrets kept at most, newest first, however often a secret is rotated. */
const MAX_PREVIOUS_SECRETS = 10

/** The organization's destination, or 404 (the same answer for another tenant's id). */
export async function requireDestination(
  env: ServiceEnv,
  organizationId: string,
  id: string,
): Promise<DestinationRecord> {
  const record = await findDestination(env, organizationId, id)
  if (!record) throw new ApiError('not_found', `Destination "${id}" does not exist`)
  return record
}

export async function createDestination(
  ctx: ChangeContext,
  input: CreateDestinationInput,
): Promise<DestinationView> {
  const maskIssues = resolveMasks(input, input.type, null)
  if (maskIssues.length > 0) throw validationFailure(maskIssues)
  const reveal = fillGeneratedSecrets(input)
  await checkDestinationInput(ctx.env, ctx.organizationId, input)
  await assertLabelFree(ctx, input.label)

  const now = new Date().toISOString()
  const record: DestinationRecord = {
    id: newId('destination'),
    organizationId: ctx.organizationId,
    label: input.label,
    type: input.type,
    description: input.description ?? null,
    config: input.config[input.type] as Record<string, unknown>,
    previousSecrets: [],
    delivery: input.delivery ?? DeliveryPolicySchema.parse({}),
    isDefault: input.isDefault ?? false,
    disabled: input.disabled ?? false,
    disabledReason: input.disabled ? DISABLED_BY_API : null,
    createdAt: now,
    updatedAt: now,
  }
  await commit(ctx, await insertStatement(ctx.env, record), {
    action: 'destination.created',
    resourceId: record.id,
    after: maskDestination(record),
  })
  await notifyOrganization(ctx, record.id, false)
  return maskDestination(record, { reveal })
}

/**
 * Applies a PATCH: the body is a JSON Merge Patch over the destination's create body; the
 * result is validated exactly like a create. A masked secret sent back means unchanged.
 */
export async function updateDestination(
  ctx: ChangeContext,
  id: string,
  patch: UpdateDestinationInput,
): Promise<DestinationView> {
  const current = await requireDestination(ctx.env, ctx.organizationId, id)
  const { organizationId: _scopedByRoute, type, ...changes } = patch
  if (type !== undefined && type !== current.type) {
    throw validationFailure([
      {
        path: 'type',
        message: `cannot change (this is a ${current.type} destination); create a new destination instead`,
      },
    ])
  }
  const merged = applyMergePatch(currentInput(current), changes) as Record<string, unknown>
  const maskIssues = resolveMasks(merged, current.type, current)
  if (maskIssues.length > 0) throw validationFailure(maskIssues)
  const parsed = CreateDestinationSchema.safeParse(merged)
  if (!parsed.success) throw validationError(parsed.error.issues)
  const input = parsed.data
  const reveal = fillGeneratedSecrets(input)
  await checkDestinationInput(ctx.env, ctx.organizationId, input)
  if (input.label !== current.label) await assertLabelFree(ctx, input.label)

  const config = input.config[current.type] as Record<string, unknown>
  // A secret replaced through PATCH stops signing at once; rotate-secret keeps a grace period.
  const secretReplaced = current.type === 'webhook' && config.secret !== current.config.secret
  const disabled = input.disabled ?? false
  const next: DestinationRecord = {
    ...current,
    label: input.label,
    description: input.description ?? null,
    config,
    previousSecrets: secretReplaced ? [] : current.previousSecrets,
    delivery: input.delivery ?? DeliveryPolicySchema.parse({}),
    isDefault: input.isDefault ?? false,
    disabled,
    disabledReason: disabled ? (current.disabled ? current.disabledReason : DISABLED_BY_API) : null,
    updatedAt: new Date().toISOString(),
  }
  await commit(ctx, await updateStatement(ctx.env, next), {
    action: 'destination.updated',
    resourceId: id,
    before: maskDestination(current),
    after: maskDestination(next),
  })
  await notifyOrganization(ctx, id, false)
  return maskDestination(next, { reveal })
}

/**
 * Deletes a destination. Refused (409) while another configuration points at it: a
 * download destination that sends its links through it, the organization's alert
 * destination, or an alert rule that watches it or sends to it (alerts must not fall
 * silent because their destination went away). The organization's object then ends its pending deliveries as skipped.
 */
export async function deleteDestination(ctx: ChangeContext, id: string): Promise<void> {
  const current = await requireDestination(ctx.env, ctx.organizationId, id)
  const referrers = await notifyingDestinations(ctx.env, ctx.organizationId, id)
  if (referrers.length > 0) {
    throw new ApiError(
      'conflict',
      `Destination "${id}" sends the links of download destination ${referrers.join(', ')}; change its notifyDestinationId first`,
      { details: { referencedBy: referrers } },
    )
  }
  const settings = await organizationStub(ctx.env, ctx.organizationId).getSettings()
  if (settings.security.alertDestinationId === id) {
    throw new ApiError(
      'conflict',
      `Destination "${id}" receives the organization's operational events (settings security.alertDestinationId); choose another one first`,
      { details: { referencedBy: ['settings.security.alertDestinationId'] } },
    )
  }
  const rules = await alertRulesUsing(ctx.env.DB, ctx.organizationId, id)
  if (rules.length > 0) {
    throw new ApiError(
      'conflict',
      `Destination "${id}" is used by alert rule ${rules.join(', ')}; change or delete the rule first`,
      { details: { referencedBy: rules } },
    )
  }
  await commit(ctx, deleteStatement(ctx.env, ctx.organizationId, id), {
    action: 'destination.deleted',
    resourceId: id,
    before: maskDestination(current),
  })
  await notifyOrganization(ctx, id, true)
}

/** Marks or unmarks a destination as one of the organization's defaults (idempotent). */
export async function setDefaultFlag(
  ctx: ChangeContext,
  id: string,
  isDefault: boolean,
): Promise<DestinationView> {
  const current = await requireDestination(ctx.env, ctx.organizationId, id)
  if (current.isDefault === isDefault) return maskDestination(current)
  const next = { ...current, isDefault, updatedAt: new Date().toISOString() }
  await commit(ctx, await updateStatement(ctx.env, next), {
    action: isDefault ? 'destination.default_set' : 'destination.default_unset',
    resourceId: id,
    before: maskDestination(current),
    after: maskDestination(next),
  })
  await notifyOrganization(ctx, id, false)
  return maskDestination(next)
}

/**
 * Gives a webhook destination a new signing secret, shown in full only in the result.
 * The replaced secret keeps signing beside it for the organization's
 * `security.webhookSecrets.graceHours`. The secret is generated here unless given: the
 * rotation cron makes it first, so that it is announced before it signs anything.
 */
export async function rotateWebhookSecret(
  ctx: ChangeContext,
  id: string,
  secret: string = generateWebhookSecret(),
): Promise<DestinationView> {
  const current = await requireDestination(ctx.env, ctx.organizationId, id)
  if (current.type !== 'webhook') {
    throw new ApiError(
      'unprocessable',
      `Destination "${id}" is a ${current.type} destination; only webhook destinations have a signing secret`,
    )
  }
  const settings = await organizationStub(ctx.env, ctx.organizationId).getSettings()
  const now = Date.now()
  const graceMs = settings.security.webhookSecrets.graceHours * 3_600_000
  const replaced = {
    secret: current.config.secret as string,
    expiresAt: new Date(now + graceMs).toISOString(),
  }
  const previousSecrets = [replaced, ...previousSecretsInGrace(current.previousSecrets, now)].slice(
    0,
    MAX_PREVIOUS_SECRETS,
  )
  const next: DestinationRecord = {
    ...current,
    config: { ...current.config, secret },
    previousSecrets,
    updatedAt: new Date(now).toISOString(),
  }
  await commit(ctx, await updateStatement(ctx.env, next), {
    action: 'destination.secret_rotated',
    resourceId: id,
    before: maskDestination(current, { now }),
    after: maskDestination(next, { now }),
  })
  await notifyOrganization(ctx, id, false)
  return maskDestination(next, { reveal: ['/secret'], now })
}

/** The destination as a create body, secrets opened: what a PATCH is merged over. */
function currentInput(record: DestinationRecord): Record<string, unknown> {
  return {
    label: record.label,
    type: record.type,
    ...(record.description === null ? {} : { description: record.description }),
    config: { [record.type]: structuredClone(record.config) },
    isDefault: record.isDefault,
    disabled: record.disabled,
    delivery: structuredClone(record.delivery),
  }
}

/**
 * Replaces masks that match the stored secret at the same place by that secret, in
 * place. Any other mask is an error: on create there is nothing to keep, on update the
 * client sent a mask of some other value.
 */
function resolveMasks(
  input: object,
  type: DestinationRecord['type'],
  current: DestinationRecord | null,
): FieldIssue[] {
  const config = getAt(input, ['config', type])
  if (!isObject(config)) return []
  const issues: FieldIssue[] = []
  for (const path of secretPaths(type, config)) {
    const value = getAt(config, path)
    if (!isMasked(value)) continue
    const stored = current ? getAt(current.config, path) : undefined
    if (typeof stored === 'string' && maskSecret(stored) === value) {
      setAt(config, path, stored)
      continue
    }
    issues.push({
      path: `config.${type}.${path.join('.')}`,
      message: current
        ? 'is a masked value that matches no stored secret; send the new secret in full, or the mask unchanged'
        : 'is a masked value; send the secret itself',
    })
  }
  return issues
}

async function assertLabelFree(ctx: ChangeContext, label: string): Promise<void> {
  if (await destinationIdByLabel(ctx.env, ctx.organizationId, label)) throw labelTaken(label)
}

function labelTaken(label: string): ApiError {
  return new ApiError(
    'label_taken',
    `Label "${label}" is already used by another destination of this organization`,
    { details: { issues: [{ path: 'label', message: 'is already used in this organization' }] } },
  )
}

/** Writes the change and its audit entry in one transaction. */
async function commit(
  ctx: ChangeContext,
  statement: D1PreparedStatement,
  audit: Pick<AuditChange, 'action' | 'resourceId' | 'before' | 'after'>,
): Promise<void> {
  const change: AuditChange = {
    organizationId: ctx.organizationId,
    resourceType: 'destination',
    ...audit,
  }
  try {
    await ctx.env.DB.batch([
      statement,
      auditStatement(ctx.env.DB, change, ctx.actor, ctx.requestId),
    ])
  } catch (error) {
    // The unique index settles a race between two writers of the same label.
    const message = (error as Error).message
    if (message.includes('UNIQUE constraint failed') && message.includes('label')) {
      const label = getAt(audit.after, ['label'])
      throw labelTaken(typeof label === 'string' ? label : '')
    }
    throw error
  }
  log.info({
    event: audit.action,
    requestId: ctx.requestId ?? undefined,
    organizationId: ctx.organizationId,
    destinationId: audit.resourceId,
  })
}

async function notifyOrganization(ctx: ChangeContext, destinationId: string, deleted: boolean) {
  await organizationStub(ctx.env, ctx.organizationId).destinationsChanged({
    destinationId,
    deleted,
  })
}
