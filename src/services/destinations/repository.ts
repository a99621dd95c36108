/**
 * Destinations in D1. Every query takes the organization id first, so a tenant's id used
 * by another tenant finds nothing. Rows keep the type's config without secrets in
 * `config` and the secrets sealed in `secrets`; records returned here have them opened.
 * Writes are returned as prepared statements so callers can batch them with the audit entry.
 */
import { and, asc, eq, gt, or, type SQL, sql } from 'drizzle-orm'
import { database } from '../../db/client'
import { destinations } from '../../db/schema'
import type { ServiceEnv } from '../../env'
import { log } from '../../lib/logger'
import {
  type DeliveryPolicy,
  DeliveryPolicySchema,
  type DestinationType,
  type LoadedDestination,
  type PreviousSecret,
} from '../../schemas/destination'
import { auditStatement } from '../audit-log'
import { openBag, previousSecretsInGrace, sealBag } from './sealing'
import { joinSecrets, splitSecrets } from './secret-fields'

type Row = typeof destinations.$inferSelect

/** A destination with its secrets opened: what the API renders (masked) and updates. */
export interface DestinationRecord {
  id: string
  organizationId: string
  label: string
  type: DestinationType
  description: string | null
  /** The type's config (what sits under `config.<type>` in the API), secrets included. */
  config: Record<string, unknown>
  /** Webhook only: rotated-out secrets, expired ones included until the next write. */
  previousSecrets: PreviousSecret[]
  delivery: DeliveryPolicy
  isDefault: boolean
  disabled: boolean
  disabledReason: string | null
  createdAt: string
  updatedAt: string
}

/** What the organization object routes by: no config, no secrets. */
export interface DestinationSummary {
  id: string
  label: string
  type: DestinationType
  isDefault: boolean
  disabled: boolean
  disabledReason: string | null
  delivery: DeliveryPolicy
  /** Changes with every update; queue messages carry it so no stale config is used. */
  updatedAt: string
}

export interface DestinationFilters {
  type?: DestinationType
  label?: string
  disabled?: boolean
  isDefault?: boolean
}

async function toRecord(env: ServiceEnv, row: Row): Promise<DestinationRecord> {
  const bag = await openBag(env, row.secrets)
  return {
    id: row.id,
    organizationId: row.organizationId,
    label: row.label,
    type: row.type,
    description: row.description,
    config: joinSecrets(JSON.parse(row.config) as Record<string, unknown>, bag.values),
    previousSecrets: bag.previousSecrets,
    delivery: parsePolicy(row.deliveryPolicy),
    isDefault: row.isDefault,
    disabled: row.disabled,
    disabledReason: row.disabledReason,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

function parsePolicy(json: string): DeliveryPolicy {
  return DeliveryPolicySchema.parse(JSON.parse(json))
}

const scoped = (organizationId: string, id: string) =>
  and(eq(destinations.organizationId, organizationId), eq(destinations.id, id))

/** One destination of the organization, or null (also for another organization's id). */
export async function findDestination(
  env: ServiceEnv,
  organizationId: string,
  id: string,
): Promise<DestinationRecord | null> {
  const row = await database(env.DB)
    .select()
    .from(destinations)
    .where(scoped(organizationId, id))
    .get()
  return row ? toRecord(env, row) : null
}

/** A page of the organization's destinations in creation order, after the cursor's row. */
export async function listDestinations(
  env: ServiceEnv,
  organizationId: string,
  filters: DestinationFilters,
  page: { after: { createdAt: string; id: string } | null; limit: number },
): Promise<DestinationRecord[]> {
  const { after } = page
  const conditions: (SQL | undefined)[] = [
    eq(destinations.organizationId, organizationId),
    filters.type === undefined ? undefined : eq(destinations.type, filters.type),
    filters.label === undefined ? undefined : eq(destinations.label, filters.label),
    filters.disabled === undefined ? undefined : eq(destinations.disabled, filters.disabled),
    filters.isDefault === undefined ? undefined : eq(destinations.isDefault, filters.isDefault),
    after
      ? or(
          gt(destinations.createdAt, after.createdAt),
          and(eq(destinations.createdAt, after.createdAt), gt(destinations.id, after.id)),
        )
      : undefined,
  ]
  const rows = await database(env.DB)
    .select()
    .from(destinations)
    .where(and(...conditions))
    .orderBy(asc(destinations.createdAt), asc(destinations.id))
    .limit(page.limit)
    .all()
  return Promise.all(rows.map((row) => toRecord(env, row)))
}

/** The id of the organization's destination with this label, if any. */
export async function destinationIdByLabel(
  env: ServiceEnv,
  organizationId: string,
  label: string,
): Promise<string | null> {
  const row = await database(env.DB)
    .select({ id: destinations.id })
    .from(destinations)
    .where(and(eq(destinations.organizationId, organizationId), eq(destinations.label, label)))
    .get()
  return row?.id ?? null
}

/** The type of one of the organization's destinations, or null when it has none by that id. */
export async function destinationType(
  env: ServiceEnv,
  organizationId: string,
  id: string,
): Promise<DestinationType | null> {
  const row = await database(env.DB)
    .select({ type: destinations.type })
    .from(destinations)
    .where(scoped(organizationId, id))
    .get()
  return row?.type ?? null
}

/** Download destinations that send their links through this destination. */
export async function notifyingDestinations(
  env: ServiceEnv,
  organizationId: string,
  id: string,
): Promise<string[]> {
  const rows = await database(env.DB)
    .select({ id: destinations.id })
    .from(destinations)
    .where(
      and(
        eq(destinations.organizationId, organizationId),
        eq(destinations.type, 'download'),
        sql`json_extract(${destinations.config}, '$.notifyDestinationId') = ${id}`,
      ),
    )
    .all()
  return rows.map((row) => row.id)
}

async function toRow(env: ServiceEnv, record: DestinationRecord): Promise<Row> {
  const { publicConfig, secrets } = splitSecrets(record.type, record.config)
  return {
    id: record.id,
    organizationId: record.organizationId,
    label: record.label,
    type: record.type,
    description: record.description,
    config: JSON.stringify(publicConfig),
    secrets: await sealBag(env, { values: secrets, previousSecrets: record.previousSecrets }),
    deliveryPolicy: JSON.stringify(record.delivery),
    isDefault: record.isDefault,
    disabled: record.disabled,
    disabledReason: record.disabledReason,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  }
}

/** A drizzle query as a D1 statement, so it can share a `DB.batch` (one transaction) with others. */
function prepared(
  db: D1Database,
  query: { toSQL(): { sql: string; params: unknown[] } },
): D1PreparedStatement {
  const { sql: text, params } = query.toSQL()
  return db.prepare(text).bind(...params)
}

export async function insertStatement(
  env: ServiceEnv,
  record: DestinationRecord,
): Promise<D1PreparedStatement> {
  const query = database(env.DB)
    .insert(destinations)
    .values(await toRow(env, record))
  return prepared(env.DB, query)
}

export async function updateStatement(
  env: ServiceEnv,
  record: DestinationRecord,
): Promise<D1PreparedStatement> {
  const {
    id: _id,
    organizationId: _org,
    createdAt: _created,
    ...changes
  } = await toRow(env, record)
  const query = database(env.DB)
    .update(destinations)
    .set(changes)
    .where(scoped(record.organizationId, record.id))
  return prepared(env.DB, query)
}

export function deleteStatement(
  env: ServiceEnv,
  organizationId: string,
  id: string,
): D1PreparedStatement {
  const query = database(env.DB).delete(destinations).where(scoped(organizationId, id))
  return prepared(env.DB, query)
}

/**
 * A destination as the delivery handlers use it, secrets opened. Webhooks carry their
 * current signing secret and the previous ones still inside their grace period.
 */
export async function loadDestination(
  env: ServiceEnv,
  organizationId: string,
  destinationId: string,
): Promise<LoadedDestination | null> {
  const record = await findDestination(env, organizationId, destinationId)
  if (!record) return null
  const { config, type, previousSecrets, ...base } = record
  if (type === 'webhook') {
    const previous = previousSecretsInGrace(previousSecrets, Date.now())
    return { ...base, type, config: { ...config, previousSecrets: previous } } as LoadedDestination
  }
  return { ...base, type, config } as LoadedDestination
}

/** Every destination of the organization, without config or secrets, for routing. */
export async function listDestinationSummaries(
  env: ServiceEnv,
  organizationId: string,
): Promise<DestinationSummary[]> {
  const rows = await database(env.DB)
    .select({
      id: destinations.id,
      label: destinations.label,
      type: destinations.type,
      isDefault: destinations.isDefault,
      disabled: destinations.disabled,
      disabledReason: destinations.disabledReason,
      deliveryPolicy: destinations.deliveryPolicy,
      updatedAt: destinations.updatedAt,
    })
    .from(destinations)
    .where(eq(destinations.organizationId, organizationId))
    .orderBy(asc(destinations.createdAt), asc(destinations.id))
    .all()
  return rows.map(({ deliveryPolicy, ...summary }) => ({
    ...summary,
    delivery: parsePolicy(deliveryPolicy),
  }))
}

/**
 * Disables or re-enables a destination on the pipeline's behalf (a 410, or failures for
 * too long), recording it in the audit trail as `system`. It does not notify the
 * organization's object: the pipeline calls this from there. False when there is no such
 * destination.
 */
export async function setDestinationDisabled(
  env: ServiceEnv,
  organizationId: string,
  destinationId: string,
  disabled: boolean,
  reason: string | null,
): Promise<boolean> {
  const current = await database(env.DB)
    .select({ disabled: destinations.disabled, disabledReason: destinations.disabledReason })
    .from(destinations)
    .where(scoped(organizationId, destinationId))
    .get()
  if (!current) return false
  const after = { disabled, disabledReason: disabled ? reason : null }
  const update = database(env.DB)
    .update(destinations)
    .set({ ...after, updatedAt: new Date().toISOString() })
    .where(scoped(organizationId, destinationId))
  const change = {
    organizationId,
    action: disabled ? 'destination.disabled' : 'destination.enabled',
    resourceType: 'destination' as const,
    resourceId: destinationId,
    before: current,
    after,
  }
  await env.DB.batch([prepared(env.DB, update), auditStatement(env.DB, change, 'system', null)])
  log.info({
    event: disabled ? 'destination_disabled' : 'destination_enabled',
    organizationId,
    destinationId,
    reason,
  })
  return true
}
