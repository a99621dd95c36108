/**
 * D1 catalogue of the service. Tenant state that needs ordering or exactly-once
 * decisions (keys, settings, sequence numbers, deliveries) lives in the organization's
 * Durable Object instead; D1 holds what is listed, joined or aggregated across rows.
 * Every tenant table leads with `organization_id` so scoped queries use the index.
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

export const organizations = sqliteTable('organizations', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  status: text('status', { enum: ['active', 'disabled'] })
    .notNull()
    .default('active'),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
})

export const destinations = sqliteTable(
  'destinations',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    label: text('label').notNull(),
    type: text('type', { enum: ['webhook', 'storage', 'email', 'download'] }).notNull(),
    description: text('description'),
    /** The type's config as JSON with every secret removed (see `secrets`). */
    config: text('config').notNull(),
    /** Secrets of the config, sealed with the at-rest key (`<keyId>.<iv>.<ciphertext>`). */
    secrets: text('secrets'),
    /** The outbox policy (ordering, concurrency, rate) as JSON. */
    deliveryPolicy: text('delivery_policy').notNull().default('{}'),
    isDefault: integer('is_default', { mode: 'boolean' }).notNull().default(false),
    disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
    disabledReason: text('disabled_reason'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [
    uniqueIndex('destinations_org_label').on(table.organizationId, table.label),
    index('destinations_org_created').on(table.organizationId, table.createdAt, table.id),
  ],
)

export const alertRules = sqliteTable(
  'alert_rules',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    name: text('name').notNull(),
    kind: text('kind', {
      enum: ['failure_rate', 'consecutive_failures', 'backlog_age', 'latency'],
    }).notNull(),
    /** Kind-specific threshold and window as JSON. */
    condition: text('condition').notNull(),
    destinationId: text('destination_id'),
    /** Where the alert goes: destination ids of the organization (webhook or email). */
    notify: text('notify').notNull(),
    cooldownMinutes: integer('cooldown_minutes').notNull(),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    lastFiredAt: text('last_fired_at'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (table) => [index('alert_rules_org').on(table.organizationId, table.createdAt)],
)

export const auditLog = sqliteTable(
  'audit_log',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    resourceType: text('resource_type').notNull(),
    resourceId: text('resource_id').notNull(),
    /** JSON snapshots with secrets masked. */
    before: text('before'),
    after: text('after'),
    requestId: text('request_id'),
    createdAt: text('created_at').notNull(),
  },
  (table) => [index('audit_log_org_created').on(table.organizationId, table.createdAt, table.id)],
)

/**
 * Per-minute roll-up of attempts and final outcomes, per organization and destination.
 * Latency is a histogram: `latency_le_<ms>` counts attempts at or below that edge and
 * above the previous one; `latency_le_inf` counts the rest.
 */
export const metricRollups = sqliteTable(
  'metric_rollups',
  {
    organizationId: text('organization_id').notNull(),
    destinationId: text('destination_id').notNull(),
    destinationType: text('destination_type').notNull(),
    minute: integer('minute').notNull(),
    accepted: integer('accepted').notNull().default(0),
    delivered: integer('delivered').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    retried: integer('retried').notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    latencySumMs: integer('latency_sum_ms').notNull().default(0),
    latencyLe50: integer('latency_le_50').notNull().default(0),
    latencyLe100: integer('latency_le_100').notNull().default(0),
    latencyLe250: integer('latency_le_250').notNull().default(0),
    latencyLe500: integer('latency_le_500').notNull().default(0),
    latencyLe1000: integer('latency_le_1000').notNull().default(0),
    latencyLe2500: integer('latency_le_2500').notNull().default(0),
    latencyLe5000: integer('latency_le_5000').notNull().default(0),
    latencyLe10000: integer('latency_le_10000').notNull().default(0),
    latencyLe30000: integer('latency_le_30000').notNull().default(0),
    latencyLeInf: integer('latency_le_inf').notNull().default(0),
  },
  (table) => [
    primaryKey({ columns: [table.organizationId, table.destinationId, table.minute] }),
    index('metric_rollups_org_minute').on(table.organizationId, table.minute),
  ],
)

/** Dead letters recorded by the DLQ consumer: the queue's own safety net, kept for audit. */
export const deadLetters = sqliteTable(
  'dead_letters',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    deliveryId: text('delivery_id').notNull(),
    destinationId: text('destination_id').notNull(),
    attempts: integer('attempts').notNull(),
    receivedAt: text('received_at').notNull(),
  },
  (table) => [index('dead_letters_org').on(table.organizationId, table.receivedAt)],
)

/** Resume points of cron jobs that walk a destination in pages (retention cleanup). */
export const cronCursors = sqliteTable('cron_cursors', {
  name: text('name').primaryKey(),
  cursor: text('cursor').notNull(),
  updatedAt: text('updated_at').notNull(),
})

/**
 * Expiring download links. Only the token's SHA-256 is stored; the count is raised with
 * a conditional UPDATE so concurrent downloads never exceed `max_downloads`.
 */
export const downloads = sqliteTable(
  'downloads',
  {
    id: text('id').primaryKey(),
    tokenHash: text('token_hash').notNull(),
    organizationId: text('organization_id').notNull(),
    deliveryId: text('delivery_id').notNull(),
    destinationId: text('destination_id').notNull(),
    objectKey: text('object_key').notNull(),
    expiresAt: text('expires_at').notNull(),
    maxDownloads: integer('max_downloads').notNull(),
    downloadCount: integer('download_count').notNull().default(0),
    revokedAt: text('revoked_at'),
    createdAt: text('created_at').notNull(),
  },
  (table) => [
    uniqueIndex('downloads_token_hash').on(table.tokenHash),
    uniqueIndex('downloads_delivery_destination').on(
      table.organizationId,
      table.deliveryId,
      table.destinationId,
    ),
  ],
)
