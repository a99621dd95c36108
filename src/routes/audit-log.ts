/**
 * The service's own audit trail, as the key's organization reads it: who changed which
 * destination, key or setting, when, with before and after snapshots (secrets masked).
 * Newest first.
 */
import { createRoute, z } from '@hono/zod-openapi'
import { and, desc, eq, gte, lt, lte, or, type SQL } from 'drizzle-orm'
import { database } from '../db/client'
import { auditLog } from '../db/schema'
import { decodeCursor, encodeCursor } from '../lib/cursor'
import { fieldError } from '../lib/errors'
import { createRouter } from '../lib/router'
import { scopedOrganization } from '../middleware/auth'
import {
  errorResponses,
  OrganizationIdSchema,
  PaginationQuerySchema,
  TimestampSchema,
} from '../schemas/common'
import type { AuditChange } from '../services/audit-log'

const router = createRouter()

const RESOURCE_TYPES = [
  'destination',
  'api_key',
  'settings',
  'organization',
  'alert_rule',
  'delivery',
  'download',
] as const satisfies readonly AuditChange['resourceType'][]

const Query = PaginationQuerySchema.extend({
  organizationId: OrganizationIdSchema.optional(),
  resourceType: z.enum(RESOURCE_TYPES).optional(),
  resourceId: z.string().max(200).optional(),
  startDate: TimestampSchema.optional().openapi({ description: 'Entries at or after (ISO 8601).' }),
  endDate: TimestampSchema.optional().openapi({ description: 'Entries at or before (ISO 8601).' }),
})

const AuditEntrySchema = z
  .object({
    id: z.string().openapi({ example: 'aud_k3m5q7s2u4w6y8a2c4e6' }),
    organizationId: z.string(),
    actor: z.string().openapi({ description: '`api_key:<keyId>`, `admin` or `system`.' }),
    action: z.string().openapi({ example: 'destination.updated' }),
    resourceType: z.enum(RESOURCE_TYPES),
    resourceId: z.string(),
    before: z.unknown().openapi({ description: 'The resource before the change, secrets masked.' }),
    after: z.unknown().openapi({ description: 'The resource after the change, secrets masked.' }),
    requestId: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('AuditEntry')

const AuditPage = z
  .object({ entries: z.array(AuditEntrySchema), nextCursor: z.string().nullable() })
  .openapi('AuditPage')

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/audit-log',
    tags: ['audit'],
    summary: "Read the organization's audit trail",
    description:
      'Every change to destinations, API keys and settings, newest first. Filters combine; pages follow `nextCursor`.',
    request: { query: Query },
    responses: {
      200: { description: 'A page', content: { 'application/json': { schema: AuditPage } } },
      ...errorResponses(400, 401, 403),
    },
  }),
  async (c) => {
    const query = c.req.valid('query')
    const organizationId = scopedOrganization(c.get('organizationId'), query.organizationId)
    // Stored times are UTC ISO strings, so bounds are normalized to compare as text.
    const start = query.startDate ? new Date(query.startDate).toISOString() : undefined
    const end = query.endDate ? new Date(query.endDate).toISOString() : undefined
    if (start && end && end < start)
      throw fieldError('query.endDate', 'must not be before startDate')
    const cursor = decodeCursor(query.cursor, 2)
    const conditions: (SQL | undefined)[] = [
      eq(auditLog.organizationId, organizationId),
      query.resourceType ? eq(auditLog.resourceType, query.resourceType) : undefined,
      query.resourceId ? eq(auditLog.resourceId, query.resourceId) : undefined,
      start ? gte(auditLog.createdAt, start) : undefined,
      end ? lte(auditLog.createdAt, end) : undefined,
      cursor
        ? or(
            lt(auditLog.createdAt, String(cursor[0])),
            and(eq(auditLog.createdAt, String(cursor[0])), lt(auditLog.id, String(cursor[1]))),
          )
        : undefined,
    ]
    const rows = await database(c.env.DB)
      .select()
      .from(auditLog)
      .where(and(...conditions))
      .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
      .limit(query.limit + 1)
      .all()
    const page = rows.slice(0, query.limit)
    const last = page.at(-1)
    return c.json(
      {
        entries: page.map((row) => ({
          ...row,
          resourceType: row.resourceType as AuditChange['resourceType'],
          before: row.before === null ? null : (JSON.parse(row.before) as unknown),
          after: row.after === null ? null : (JSON.parse(row.after) as unknown),
        })),
        nextCursor:
          rows.length > query.limit && last ? encodeCursor([last.createdAt, last.id]) : null,
      },
      200,
    )
  },
)

export const auditLogRoutes = router
