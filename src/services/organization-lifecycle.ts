/** Export and purge of a whole organization, for the operator's delete. */
import { eq } from 'drizzle-orm'
import { database } from '../db/client'
import {
  alertRules,
  auditLog,
  deadLetters,
  destinations,
  downloads,
  metricRollups,
  organizations,
} from '../db/schema'
import { organizationStub } from '../durable-objects/organization-stub'
import type { ServiceEnv } from '../env'
import { r2Keys } from '../lib/r2-keys'

type OrganizationRow = typeof organizations.$inferSelect

/** Everything an operator may hand back to a tenant before deletion. Destination secrets stay sealed out. */
export async function exportOrganization(env: ServiceEnv, organization: OrganizationRow) {
  const db = database(env.DB)
  const stub = organizationStub(env, organization.id)
  const [destinationRows, rules, audit, settings, apiKeys] = await Promise.all([
    db.select().from(destinations).where(eq(destinations.organizationId, organization.id)).all(),
    db.select().from(alertRules).where(eq(alertRules.organizationId, organization.id)).all(),
    db.select().from(auditLog).where(eq(auditLog.organizationId, organization.id)).all(),
    stub.getSettings(),
    stub.listApiKeys(),
  ])
  return {
    exportedAt: new Date().toISOString(),
    organization,
    settings,
    apiKeys,
    destinations: destinationRows.map(({ secrets: _sealed, config, ...rest }) => ({
      ...rest,
      config: JSON.parse(config) as unknown,
    })),
    alertRules: rules,
    auditLog: audit,
  }
}

/** Deletes the organization's D1 rows, its object's storage and every R2 object under its prefix. */
export async function purgeOrganization(env: ServiceEnv, organizationId: string): Promise<void> {
  const db = database(env.DB)
  await db.batch([
    db.delete(destinations).where(eq(destinations.organizationId, organizationId)),
    db.delete(alertRules).where(eq(alertRules.organizationId, organizationId)),
    db.delete(auditLog).where(eq(auditLog.organizationId, organizationId)),
    db.delete(metricRollups).where(eq(metricRollups.organizationId, organizationId)),
    db.delete(deadLetters).where(eq(deadLetters.organizationId, organizationId)),
    db.delete(downloads).where(eq(downloads.organizationId, organizationId)),
    db.delete(organizations).where(eq(organizations.id, organizationId)),
  ])
  await organizationStub(env, organizationId).purge()
  const prefix = r2Keys.organizationPrefix(organizationId)
  let cursor: string | undefined
  do {
    const page = await env.ARTIFACTS.list({ prefix, cursor, limit: 1000 })
    if (page.objects.length > 0)
      await env.ARTIFACTS.delete(page.objects.map((object) => object.key))
    cursor = page.truncated ? page.cursor : undefined
  } while (cursor)
}
