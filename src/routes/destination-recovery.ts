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

/**
 * Declares one of the two requeue routes: they take the same body, check the same things
 * and answer the same shape; only the object's operation and the audit action differ.
 */
function requeueRoute(options: {
  path: '/v1/destinations/{id}/recover' | '/v1/destinations/{id}/replay'
  summary: string
  description?: string
  action: string
  requeue: (
    stub: ReturnType<typeof organizationStub>,
    id: string,
    sinceMs: number,
  ) => Promise<number | null>
}) {
  router.openapi(
    createRoute({
      method: 'post',
      path: options.path,
      tags,
      summary: options.summary,
      ...(options.description ? { description: options.description } : {}),
      request: {
        params: Params,
        body: { required: true, content: { 'application/json': { schema: SinceBody } } },
      },
      responses: {
        200: {
          description: 'How many deliveries were queued',
          content: { 'application/json': { schema: RequeueResultSchema } },
        },
        ...errorResponses(400, 401, 403, 404, 415),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const { since, organizationId: inBody } = c.req.valid('json')
      const organizationId = scopedOrganization(c.get('organizationId'), inBody)
      await requireDestination(c.env, organizationId, id)
      const requeued = await options.requeue(
        organizationStub(c.env, organizationId),
        id,
        Date.parse(since),
      )
      if (requeued === null) throw new ApiError('not_found', `Destination "${id}" does not exist`)
      await recordAudit(c, {
        organizationId,
        action: options.action,
        resourceType: 'destination',
        resourceId: id,
        after: { since, requeued },
      })
      return c.json({ destinationId: id, since, requeued }, 200)
    },
  )
}

requeueRoute({
  path: '/v1/destinations/{id}/recover',
  summary: 'Queue again every delivery to this destination that failed since a time',
  action: 'destination.recovered',
  requeue: (stub, id, sinceMs) => stub.recoverDestination(id, sinceMs),
})

requeueRoute({
  path: '/v1/destinations/{id}/replay',
  summary: 'Send every delivery since a time to this destination, delivered before or not',
  description:
    'For a destination added later, or one whose copies were lost: deliveries that never named it are sent to it too. Operational events are never replayed.',
  action: 'destination.replayed',
  requeue: (stub, id, sinceMs) => stub.replayToDestination(id, sinceMs),
})

export const destinationRecoveryRoutes = router
