/**
 * The connection test: `POST /v1/destinations/{id}/test` really talks to the destination
 * (see `handlers/probe.ts`) and answers 200 with what happened, whether it worked or not;
 * only an unknown destination (or another organization's) is an error.
 */
import { createRoute, z } from '@hono/zod-openapi'
import { probeDestination } from '../handlers/probe'
import { ApiError } from '../lib/errors'
import { log } from '../lib/logger'
import { createRouter } from '../lib/router'
import { scopedOrganization } from '../middleware/auth'
import { errorResponses, OrganizationIdSchema } from '../schemas/common'
import { DestinationTestResultSchema } from '../schemas/destination-operations'
import { loadDestination } from '../services/destinations/repository'

const router = createRouter()

router.openapi(
  createRoute({
    method: 'post',
    path: '/v1/destinations/{id}/test',
    tags: ['destinations'],
    summary: 'Test the connection to a destination',
    description:
      'Webhook: a signed request of type `destination.test`. Storage: a probe object written and deleted. E-mail: the provider credentials checked with a call that sends nothing (SMTP: connect, EHLO, AUTH, QUIT). Download: an R2 write and delete. Answers 200 whatever the destination said; `ok` tells.',
    request: {
      params: z.object({
        id: z
          .string()
          .max(200)
          .openapi({ param: { name: 'id', in: 'path' }, example: 'dst_k3m5q7s2u4w6y8a2c4e6' }),
      }),
      query: z.object({ organizationId: OrganizationIdSchema.optional() }),
    },
    responses: {
      200: {
        description: 'What the destination answered',
        content: { 'application/json': { schema: DestinationTestResultSchema } },
      },
      ...errorResponses(401, 403, 404),
    },
  }),
  async (c) => {
    const organizationId = scopedOrganization(
      c.get('organizationId'),
      c.req.valid('query').organizationId,
    )
    const { id } = c.req.valid('param')
    const destination = await loadDestination(c.env, organizationId, id)
    if (!destination) throw new ApiError('not_found', `Destination "${id}" does not exist`)

    const started = Date.now()
    const outcome = await probeDestination(destination, c.env, c.get('requestId') ?? null)
    const durationMs = Date.now() - started
    log.info({
      event: 'destination_test',
      requestId: c.get('requestId'),
      organizationId,
      destinationId: id,
      outcome: outcome.kind,
      durationMs,
    })
    const failed = outcome.kind === 'delivered' ? null : outcome
    return c.json(
      {
        destinationId: id,
        type: destination.type,
        ok: outcome.kind === 'delivered',
        outcome: outcome.kind,
        code: failed?.code ?? null,
        message: failed?.message ?? null,
        httpStatus:
          (failed
            ? failed.httpStatus
            : outcome.kind === 'delivered'
              ? outcome.reference.httpStatus
              : undefined) ?? null,
        reference: outcome.kind === 'delivered' ? outcome.reference : null,
        durationMs,
        testedAt: new Date(started).toISOString(),
      },
      200,
    )
  },
)

export const destinationTestRoutes = router
