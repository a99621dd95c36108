/**
 * The key's organization's destinations: create, list, read, update, delete, rotate a
 * webhook's signing secret, and mark defaults. Every change is audited and reported to
 * the organization's object. Secrets never leave masked, except a secret the service
 * generated, in the one response that generated it.
 */

import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { AppEnv } from '../env'
import { decodeCursor, encodeCursor } from '../lib/cursor'
import { createRouter } from '../lib/router'
import { scopedOrganization } from '../middleware/auth'
import { errorResponses, OrganizationQuerySchema, PaginationQuerySchema } from '../schemas/common'
import {
  CreateDestinationSchema,
  DESTINATION_TYPES,
  DestinationSchema,
  UpdateDestinationSchema,
} from '../schemas/destination'
import { actorOf } from '../services/audit-log'
import {
  type ChangeContext,
  createDestination,
  deleteDestination,
  requireDestination,
  rotateWebhookSecret,
  setDefaultFlag,
  updateDestination,
} from '../services/destinations/changes'
import { listDestinations } from '../services/destinations/repository'
import { maskDestination } from '../services/destinations/view'

const router = createRouter()
const tags = ['destinations']

const IdParams = z.object({
  id: z
    .string()
    .max(200)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'dst_k3m5q7s2u4w6y8a2c4e6' }),
})
const Flag = z.enum(['true', 'false'])
const ListQuery = PaginationQuerySchema.extend(OrganizationQuerySchema.shape).extend({
  type: z.enum(DESTINATION_TYPES).optional(),
  label: z.string().max(200).optional().openapi({ description: 'Exact label.' }),
  disabled: Flag.optional(),
  isDefault: Flag.optional(),
})
const DestinationPage = z
  .object({ destinations: z.array(DestinationSchema), nextCursor: z.string().nullable() })
  .openapi('DestinationPage')
const Deleted = z.object({ id: z.string(), deleted: z.literal(true) })

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})
const body = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
})

/** Resolves the organization a request acts on and who acts, for the change services. */
function changeContext(c: Context<AppEnv>, requested: string | undefined): ChangeContext {
  return {
    env: c.env,
    organizationId: scopedOrganization(c.get('organizationId'), requested),
    actor: actorOf(c),
    requestId: c.get('requestId') ?? null,
  }
}

router.openapi(
  createRoute({
    method: 'post',
    path: '/v1/destinations',
    tags,
    summary: 'Create a destination',
    description:
      "The body is the seed's `createDestination` input. A webhook without `secret` gets one (`whsec_…`), and an e-mail destination with encryption enabled and no key gets one; either is shown in full in this response only.",
    request: { body: body(CreateDestinationSchema) },
    responses: {
      201: json(DestinationSchema, 'Created'),
      ...errorResponses(400, 401, 403, 409, 413, 415, 422),
    },
  }),
  async (c) => {
    const input = c.req.valid('json')
    const ctx = changeContext(c, input.organizationId)
    return c.json(await createDestination(ctx, input), 201)
  },
)

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/destinations',
    tags,
    summary: 'List destinations',
    description: 'In creation order. Filters combine; pages follow `nextCursor`.',
    request: { query: ListQuery },
    responses: { 200: json(DestinationPage, 'A page'), ...errorResponses(400, 401, 403) },
  }),
  async (c) => {
    const query = c.req.valid('query')
    const organizationId = scopedOrganization(c.get('organizationId'), query.organizationId)
    const cursor = decodeCursor(query.cursor, 2)
    const records = await listDestinations(
      c.env,
      organizationId,
      {
        type: query.type,
        label: query.label,
        disabled: query.disabled === undefined ? undefined : query.disabled === 'true',
        isDefault: query.isDefault === undefined ? undefined : query.isDefault === 'true',
      },
      {
        after: cursor ? { createdAt: String(cursor[0]), id: String(cursor[1]) } : null,
        limit: query.limit + 1,
      },
    )
    const page = records.slice(0, query.limit)
    const last = page.at(-1)
    const more = records.length > query.limit && last
    return c.json(
      {
        destinations: page.map((record) => maskDestination(record)),
        nextCursor: more ? encodeCursor([last.createdAt, last.id]) : null,
      },
      200,
    )
  },
)

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/destinations/{id}',
    tags,
    summary: 'Read a destination (secrets masked)',
    request: { params: IdParams, query: OrganizationQuerySchema },
    responses: {
      200: json(DestinationSchema, 'The destination'),
      ...errorResponses(401, 403, 404),
    },
  }),
  async (c) => {
    const ctx = changeContext(c, c.req.valid('query').organizationId)
    const record = await requireDestination(ctx.env, ctx.organizationId, c.req.valid('param').id)
    return c.json(maskDestination(record), 200)
  },
)

router.openapi(
  createRoute({
    method: 'patch',
    path: '/v1/destinations/{id}',
    tags,
    summary: 'Update a destination',
    description:
      'A JSON Merge Patch (RFC 7396) over the create body: objects merge, `null` removes a field, a masked secret sent back means "unchanged". The result is validated like a create. A webhook secret replaced here stops signing at once; use rotate-secret for a grace period.',
    request: {
      params: IdParams,
      query: OrganizationQuerySchema,
      body: body(UpdateDestinationSchema),
    },
    responses: {
      200: json(DestinationSchema, 'Updated'),
      ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422),
    },
  }),
  async (c) => {
    const patch = c.req.valid('json')
    scopedOrganization(c.get('organizationId'), c.req.valid('query').organizationId)
    const ctx = changeContext(c, patch.organizationId)
    return c.json(await updateDestination(ctx, c.req.valid('param').id, patch), 200)
  },
)

router.openapi(
  createRoute({
    method: 'delete',
    path: '/v1/destinations/{id}',
    tags,
    summary: 'Delete a destination',
    description:
      "Its pending deliveries end as `skipped`. Refused with 409 while a download destination sends its links through it, it is the organization's alert destination, or an alert rule watches it or notifies it.",
    request: { params: IdParams, query: OrganizationQuerySchema },
    responses: { 200: json(Deleted, 'Deleted'), ...errorResponses(401, 403, 404, 409) },
  }),
  async (c) => {
    const ctx = changeContext(c, c.req.valid('query').organizationId)
    const { id } = c.req.valid('param')
    await deleteDestination(ctx, id)
    return c.json({ id, deleted: true as const }, 200)
  },
)

router.openapi(
  createRoute({
    method: 'post',
    path: '/v1/destinations/{id}/rotate-secret',
    tags,
    summary: "Rotate a webhook's signing secret",
    description:
      "The new secret is shown in full in this response only. The previous one keeps signing beside it (listed in `previousSecrets`, masked) for the organization's `security.webhookSecrets.graceHours`.",
    request: { params: IdParams, query: OrganizationQuerySchema },
    responses: {
      200: json(DestinationSchema, 'Rotated'),
      ...errorResponses(401, 403, 404, 422),
    },
  }),
  async (c) => {
    const ctx = changeContext(c, c.req.valid('query').organizationId)
    return c.json(await rotateWebhookSecret(ctx, c.req.valid('param').id), 200)
  },
)

router.openapi(
  createRoute({
    method: 'put',
    path: '/v1/destinations/{id}/default',
    tags,
    summary: 'Mark a destination as a default',
    description: 'Deliveries addressed to `default` go to every default destination.',
    request: { params: IdParams, query: OrganizationQuerySchema },
    responses: { 200: json(DestinationSchema, 'Marked'), ...errorResponses(401, 403, 404) },
  }),
  async (c) => {
    const ctx = changeContext(c, c.req.valid('query').organizationId)
    return c.json(await setDefaultFlag(ctx, c.req.valid('param').id, true), 200)
  },
)

router.openapi(
  createRoute({
    method: 'delete',
    path: '/v1/destinations/{id}/default',
    tags,
    summary: 'Stop using a destination as a default',
    request: { params: IdParams, query: OrganizationQuerySchema },
    responses: { 200: json(DestinationSchema, 'Unmarked'), ...errorResponses(401, 403, 404) },
  }),
  async (c) => {
    const ctx = changeContext(c, c.req.valid('query').organizationId)
    return c.json(await setDefaultFlag(ctx, c.req.valid('param').id, false), 200)
  },
)

export const destinationRoutes = router
