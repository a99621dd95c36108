/**
 * Per-destination operations on the delivery records: health (circuit, success rate,
 * backlog), recovery of failures since a time, and replay of everything since a time.
 */
import { createRoute, z } from '@hono/zod-openapi'
import { organizationStub } from '../durable-objects/organization-stub'
import { ApiError } from '../lib/errors'
import { createRouter } from '../lib/router'
import { scopedOrganization } from '../middleware/auth'
import { errorResponses, OrganizationIdSchema, TimestampSchema } from '../schemas/common'
import { DestinationHealthSchema, RequeueResultSchema } from '../schemas/destination-operations'
import { recordAudit } from '../services/audit-log'
import { findDestination } from '../services/destinations/repository'

const router = createRouter()
const tags = ['destinations']
const Params = z.object({ id: z.string().max(64) })
const SinceBody = z.strictObject({
  organizationId: OrganizationIdSchema.optional(),
  since: TimestampSchema.openapi({
    description: 'Deliveries accepted at or after this time (ISO 8601).',
  }),
})

async function requireDestination(
  env: Parameters<typeof findDestination>[0],
  organizationId: string,
  id: string,
) {
  const destination = await findDestination(env, organizationId, id)
  if (!destination) throw new ApiError('not_found', `Destination "${id}" does not exist`)
  return destination
}

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/destinations/{id}/health',
    tags,
    summary: 'Health of a destination: circuit, success rate over the last attempts, backlog',
    request: { params: Params },
    responses: {
      200: {
        description: 'Health',
        content: { 'application/json': { schema: DestinationHealthSchema } },
      },
      ...errorResponses(401, 404),
    },
  }),
  async (c) => {
    const organizationId = c.get('organizationId')
    const destination = await requireDestination(c.env, organizationId, c.req.valid('param').id)
    const health = await organizationStub(c.env, organizationId).destinationHealth(destination.id)
    return c.json(
      { ...health, disabled: destination.disabled, disabledReason: destination.disabledReason },
      200,
    )
  },
)

router.openapi(
  createRoute({
    method: 'post',
    path: '/v1/destinations/{id}/recover',
    tags,
    summary: 'Queue again every delivery to this destination that failed since a time',
    request: {
      params: Params,
      body: { required: true, content: { 'application/json': { schema: SinceBody } } },
    },
    responses: {
      200: {
        description: 'How many were queued again',
        content: { 'application/json': { schema: RequeueResultSchema } },
      },
      ...errorResponses(400, 401, 404, 415),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param')
    const { since, organizationId: inBody } = c.req.valid('json')
    const organizationId = scopedOrganization(c.get('organizationId'), inBody)
    await requireDestination(c.env, organizationId, id)
    const requeued = await organizationStub(c.env, organizationId).recoverDestination(
      id,
      Date.parse(since),
    )
    await recordAudit(c, {
      organizationId,
      action: 'destination.recovered',
      resourceType: 'destination',
      resourceId: id,
      after: { since, requeued },
    })
    return c.json({ destinationId: id, since, requeued }, 200)
  },
)

router.openapi(
  createRoute({
    method: 'post',
    path: '/v1/destinations/{id}/replay',
    tags,
    summary: 'Send every delivery since a time to this destination, delivered before or not',
    description:
      'For a destination added later, or one whose copies were lost: deliveries that never named it are sent to it too.',
    request: {
      params: Params,
      body: { required: true, content: { 'application/json': { schema: SinceBody } } },
    },
    responses: {
      200: {
        description: 'How many were queued',
        content: { 'application/json': { schema: RequeueResultSchema } },
      },
      ...errorResponses(400, 401, 404, 415),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param')
    const { since, organizationId: inBody } = c.req.valid('json')
    const organizationId = scopedOrganization(c.get('organizationId'), inBody)
    await requireDestination(c.env, organizationId, id)
    const requeued = await organizationStub(c.env, organizationId).replayToDestination(
      id,
      Date.parse(since),
    )
    if (requeued === null) throw new ApiError('not_found', `Destination "${id}" does not exist`)
    await recordAudit(c, {
      organizationId,
      action: 'destination.replayed',
      resourceType: 'destination',
      resourceId: id,
      after: { since, requeued },
    })
    return c.json({ destinationId: id, since, requeued }, 200)
  },
)

export const destinationRecoveryRoutes = router
