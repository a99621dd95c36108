/** Operator routes for organizations: create, list, read, disable or rename, export, delete. */
import { createRoute, z } from '@hono/zod-openapi'
import { and, asc, eq, gt } from 'drizzle-orm'
import { database } from '../db/client'
import { organizations } from '../db/schema'
import { organizationStub } from '../durable-objects/organization-stub'
import { decodeCursor, encodeCursor } from '../lib/cursor'
import { ApiError } from '../lib/errors'
import { createRouter } from '../lib/router'
import { errorResponses, OrganizationIdSchema, PaginationQuerySchema } from '../schemas/common'
import {
  CreateOrganizationSchema,
  OrganizationSchema,
  UpdateOrganizationSchema,
} from '../schemas/organization'
import { exportOrganization, purgeOrganization } from '../services/organization-lifecycle'

const router = createRouter()
const tags = ['admin']
const OrgParams = z.object({ orgId: OrganizationIdSchema })
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

async function findOrganization(db: D1Database, id: string) {
  const row = await database(db).select().from(organizations).where(eq(organizations.id, id)).get()
  if (!row) throw new ApiError('not_found', `Organization "${id}" does not exist`)
  return row
}

router.openapi(
  createRoute({
    method: 'post',
    path: '/v1/admin/organizations',
    tags,
    summary: 'Create an organization',
    request: {
      body: {
        required: true,
        content: { 'application/json': { schema: CreateOrganizationSchema } },
      },
    },
    responses: { 201: json(OrganizationSchema, 'Created'), ...errorResponses(400, 401, 409, 415) },
  }),
  async (c) => {
    const input = c.req.valid('json')
    const now = new Date().toISOString()
    const row = {
      id: input.id,
      name: input.name,
      status: 'active' as const,
      createdAt: now,
      updatedAt: now,
    }
    const inserted = await database(c.env.DB)
      .insert(organizations)
      .values(row)
      .onConflictDoNothing()
      .returning()
      .get()
    if (!inserted)
      throw new ApiError('organization_exists', `Organization "${input.id}" already exists`)
    await organizationStub(c.env, input.id).setIdentity({
      id: input.id,
      name: input.name,
      status: 'active',
    })
    return c.json(inserted, 201)
  },
)

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/admin/organizations',
    tags,
    summary: 'List organizations',
    request: {
      query: PaginationQuerySchema.extend({ status: z.enum(['active', 'disabled']).optional() }),
    },
    responses: {
      200: json(
        z.object({ organizations: z.array(OrganizationSchema), nextCursor: z.string().nullable() }),
        'A page',
      ),
      ...errorResponses(400, 401),
    },
  }),
  async (c) => {
    const query = c.req.valid('query')
    const after = decodeCursor(query.cursor, 1)
    const conditions = [
      after ? gt(organizations.id, String(after[0])) : undefined,
      query.status ? eq(organizations.status, query.status) : undefined,
    ]
    const rows = await database(c.env.DB)
      .select()
      .from(organizations)
      .where(and(...conditions))
      .orderBy(asc(organizations.id))
      .limit(query.limit + 1)
      .all()
    const page = rows.slice(0, query.limit)
    const last = page.at(-1)
    return c.json(
      {
        organizations: page,
        nextCursor: rows.length > query.limit && last ? encodeCursor([last.id]) : null,
      },
      200,
    )
  },
)

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/admin/organizations/{orgId}',
    tags,
    summary: 'Read an organization',
    request: { params: OrgParams },
    responses: { 200: json(OrganizationSchema, 'The organization'), ...errorResponses(401, 404) },
  }),
  async (c) => c.json(await findOrganization(c.env.DB, c.req.valid('param').orgId), 200),
)

router.openapi(
  createRoute({
    method: 'patch',
    path: '/v1/admin/organizations/{orgId}',
    tags,
    summary: 'Rename, disable or re-enable an organization',
    description:
      "A disabled organization's keys answer 403 `organization_disabled`; its data is kept.",
    request: {
      params: OrgParams,
      body: {
        required: true,
        content: { 'application/json': { schema: UpdateOrganizationSchema } },
      },
    },
    responses: { 200: json(OrganizationSchema, 'Updated'), ...errorResponses(400, 401, 404, 415) },
  }),
  async (c) => {
    const { orgId } = c.req.valid('param')
    const input = c.req.valid('json')
    const current = await findOrganization(c.env.DB, orgId)
    const next = { ...current, ...input, updatedAt: new Date().toISOString() }
    await database(c.env.DB)
      .update(organizations)
      .set({ name: next.name, status: next.status, updatedAt: next.updatedAt })
      .where(eq(organizations.id, orgId))
      .run()
    await organizationStub(c.env, orgId).setIdentity({
      id: orgId,
      name: next.name,
      status: next.status,
    })
    return c.json(next, 200)
  },
)

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/admin/organizations/{orgId}/export',
    tags,
    summary: 'Export an organization before deleting it',
    description:
      'Destinations (secrets masked), settings, API keys (no secrets), alert rules and the audit trail as one JSON document.',
    request: { params: OrgParams },
    responses: {
      200: json(z.record(z.string(), z.unknown()), 'The export'),
      ...errorResponses(401, 404),
    },
  }),
  async (c) => {
    const organization = await findOrganization(c.env.DB, c.req.valid('param').orgId)
    return c.json(await exportOrganization(c.env, organization), 200)
  },
)

router.openapi(
  createRoute({
    method: 'delete',
    path: '/v1/admin/organizations/{orgId}',
    tags,
    summary: 'Delete an organization and purge its data',
    description:
      "Purging cannot be undone, so the first call answers 409 and offers the export; repeat with `?confirm=true` to purge D1 rows, the organization's object and its R2 prefix.",
    request: {
      params: OrgParams,
      query: z.object({ confirm: z.enum(['true', 'false']).optional() }),
    },
    responses: {
      200: json(z.object({ id: z.string(), deleted: z.literal(true) }), 'Purged'),
      ...errorResponses(401, 404, 409),
    },
  }),
  async (c) => {
    const { orgId } = c.req.valid('param')
    await findOrganization(c.env.DB, orgId)
    if (c.req.valid('query').confirm !== 'true') {
      throw new ApiError(
        'conflict',
        `Deleting purges every record of "${orgId}"; export it first, then repeat with ?confirm=true`,
        {
          details: { export: `/v1/admin/organizations/${orgId}/export` },
        },
      )
    }
    await purgeOrganization(c.env, orgId)
    return c.json({ id: orgId, deleted: true as const }, 200)
  },
)

export const adminOrganizationRoutes = router
