/**
 * Checks the destinations a rule names: the watched one must be the organization's, and
 * those notified must be its webhook or e-mail destinations (the kinds that can carry an
 * alert to a person or a system). Another organization's id is simply not found.
 */
import { and, eq, inArray } from 'drizzle-orm'
import { database } from '../../db/client'
import { destinations } from '../../db/schema'
import { ApiError } from '../../lib/errors'

const NOTIFY_TYPES = new Set(['webhook', 'email'])

export async function checkRuleDestinations(
  db: D1Database,
  organizationId: string,
  rule: { destinationId: string | null; notify: string[] },
): Promise<void> {
  const ids = [...new Set([...rule.notify, ...(rule.destinationId ? [rule.destinationId] : [])])]
  const rows = await database(db)
    .select({ id: destinations.id, type: destinations.type, label: destinations.label })
    .from(destinations)
    .where(and(eq(destinations.organizationId, organizationId), inArray(destinations.id, ids)))
    .all()
  const found = new Map(rows.map((row) => [row.id, row]))
  const missing = (path: string, id: string) =>
    new ApiError('destination_not_found', `${path}: no destination with id "${id}"`, {
      details: { issues: [{ path, message: `no destination with id "${id}"` }] },
    })
  if (rule.destinationId && !found.has(rule.destinationId))
    throw missing('destinationId', rule.destinationId)
  for (const [index, id] of rule.notify.entries()) {
    const path = `notify[${index}]`
    const destination = found.get(id)
    if (!destination) throw missing(path, id)
    if (!NOTIFY_TYPES.has(destination.type)) {
      const message = `destination "${destination.label}" is a ${destination.type} destination; alerts go to webhook or email destinations`
      throw new ApiError('unprocessable', `${path}: ${message}`, {
        details: { issues: [{ path, message }] },
      })
    }
  }
}
