/**
 * Alert rules of the key's organization: create, list, read, update, delete. Rules are
 * evaluated every minute by the scheduled job (`scheduled/alerts.ts`); a firing rule sends
 * an `operational.alert` event to its `notify` destinations. Every change is audited.
 */

import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { AppEnv } from '../env'
import { decodeCursor, encodeCursor } from '../lib/cursor'
import { createRouter } from '../lib/router'
import { scopedOrganization } from '../middleware/auth'
import {
  AlertRuleSchema,
  CreateAlertRuleSchema,
  UpdateAlertRuleSchema,
} from '../schemas/alert-rule'
import { errorResponses, OrganizationQuerySchema, PaginationQuerySchema } from '../schemas/common'
import {
  type AlertRuleContext,
  createAlertRule,
  deleteAlertRule,
  requireAlertRule,
  updateAlertRule,
} from '../services/alerts/changes'
import { listAlertRules } from '../services/alerts/repository'
import { actorOf } from '../services/audit-log'

const router = createRouter()
const tags = ['alerts']

const IdParams = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'alr_k3m5q7s2u4w6y8a2c4e6' }),
})
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})
const body = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
})

function context(c: Context<AppEnv>, requested: string | undefined): AlertRuleContext {
  return {
    db: c.env.DB,
    organizationId: scopedOrganization(c.get('organizationId'), requested),
    actor: actorOf(c),
    requestId: c.get('requestId') ?? null,
  }
}

router.openapi(
  createRoute({
    method: 'post',
    path: '/v1/alert-rules',
    tags,
    summary: 'Create an alert rule',
    description:
      'Kinds: `failure_rate` (share of failed final outcomes over a window), `consecutive_failures` (failed attempts in a row at a destination), `backlog_age` (age of the oldest unsettled delivery), `latency` (a percentile of attempt latency over a window). `notify` lists webhook or e-mail destinations.',
    request: { body: body(CreateAlertRuleSchema) },
    responses: {
      201: json(AlertRuleSchema, 'Created'),
      ...errorResponses(400, 401, 403, 422),
    },
  }),
  async (c) => {
    const input = c.req.valid('json')
    const rule = await createAlertRule(context(c, input.organizationId), input)
    return c.json(rule, 201)
  },
)

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/alert-rules',
    tags,
    summary: 'List alert rules, oldest first',
    request: { query: PaginationQuerySchema.extend(OrganizationQuerySchema.shape) },
    responses: {
      200: json(
        z
          .object({ alertRules: z.array(AlertRuleSchema), nextCursor: z.string().nullable() })
          .openapi('AlertRulePage'),
        'A page',
      ),
      ...errorResponses(400, 401, 403),
    },
  }),
  async (c) => {
    const query = c.req.valid('query')
    const organizationId = scopedOrganization(c.get('organizationId'), query.organizationId)
    const cursor = decodeCursor(query.cursor, 2)
    const rows = await listAlertRules(c.env.DB, organizationId, {
      after: cursor ? { createdAt: String(cursor[0]), id: String(cursor[1]) } : null,
      limit: query.limit + 1,
    })
    const page = rows.slice(0, query.limit)
    const last = page.at(-1)
    return c.json(
      {
        alertRules: page,
        nextCursor:
          rows.length > query.limit && last ? encodeCursor([last.createdAt, last.id]) : null,
      },
      200,
    )
  },
)

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/alert-rules/{id}',
    tags,
    summary: 'Read an alert rule',
    request: { params: IdParams, query: OrganizationQuerySchema },
    responses: { 200: json(AlertRuleSchema, 'The rule'), ...errorResponses(401, 403, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid('param')
    const rule = await requireAlertRule(context(c, c.req.valid('query').organizationId), id)
    return c.json(rule, 200)
  },
)

router.openapi(
  createRoute({
    method: 'patch',
    path: '/v1/alert-rules/{id}',
    tags,
    summary: 'Change an alert rule',
    description: 'Fields left out keep their value; the result is validated as a whole.',
    request: { params: IdParams, body: body(UpdateAlertRuleSchema) },
    responses: {
      200: json(AlertRuleSchema, 'Updated'),
      ...errorResponses(400, 401, 403, 404, 422),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param')
    const patch = c.req.valid('json')
    const rule = await updateAlertRule(context(c, patch.organizationId), id, patch)
    return c.json(rule, 200)
  },
)

router.openapi(
  createRoute({
    method: 'delete',
    path: '/v1/alert-rules/{id}',
    tags,
    summary: 'Delete an alert rule',
    request: { params: IdParams, query: OrganizationQuerySchema },
    responses: {
      200: json(z.object({ id: z.string(), deleted: z.literal(true) }), 'Deleted'),
      ...errorResponses(401, 403, 404),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param')
    await deleteAlertRule(context(c, c.req.valid('query').organizationId), id)
    return c.json({ id, deleted: true as const }, 200)
  },
)

export const alertRuleRoutes = router
