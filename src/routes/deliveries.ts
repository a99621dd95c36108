/**
 * Deliveries: accept one or many, read their status and attempts, retry failures.
 * Acceptance is decided by the organization's object; a 202 means the delivery is stored.
 */
import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { AcceptResult } from '../durable-objects/organization/deliveries'
import { organizationStub } from '../durable-objects/organization-stub'
import type { AppEnv } from '../env'
import { decodeCursor, encodeCursor } from '../lib/cursor'
import { ApiError, fieldError, formatPath } from '../lib/errors'
import { createRouter, validationError } from '../lib/router'
import { scopedOrganization } from '../middleware/auth'
import {
  errorResponses,
  OrganizationIdSchema,
  PaginationQuerySchema,
  TimestampSchema,
} from '../schemas/common'
import {
  type AcceptedDelivery,
  AcceptedDeliverySchema,
  AttemptSchema,
  BatchDeliverSchema,
  BatchResultSchema,
  DELIVERY_STATUSES,
  DeliverSchema,
  DeliverySchema,
} from '../schemas/delivery'
import { batchItemTexts, discardUnusedPayloads, prepareDelivery } from '../services/ingest'
import { bufferMetricEvents } from '../services/metrics/ingest-buffer'
import { acceptedEvents } from '../services/metrics/recorder'

const router = createRouter()
const tags = ['deliveries']
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})
const IdParams = z.object({ id: z.string().max(64) })
const IDEMPOTENCY_HEADER = 'Idempotency-Key'

/** The error for a rejected delivery; a rate limit also says when to come back. */
async function rejection(
  result: Extract<AcceptResult, { kind: 'rejected' }>,
  retryAfterMs: () => Promise<number>,
): Promise<ApiError> {
  const { code, message, details } = result.error
  if (code !== 'rate_limited') return new ApiError(code, message, { details })
  const seconds = Math.max(1, Math.ceil((await retryAfterMs()) / 1000))
  return new ApiError('rate_limited', message, { headers: { 'Retry-After': String(seconds) } })
}

/** Counts the accepted (delivery, destination) pairs, written after the response in batches. */
function countAccepted(
  c: Context<AppEnv>,
  organizationId: string,
  accepted: AcceptedDelivery[],
): void {
  bufferMetricEvents(c.executionCtx, c.env, acceptedEvents(organizationId, accepted))
}

router.openapi(
  createRoute({
    method: 'post',
    path: '/v1/deliveries',
    tags,
    summary: 'Accept a delivery',
    description:
      'Stores the delivery and queues it for every destination it names. The same `Idempotency-Key` (header or `options.idempotencyKey`) with the same bytes answers 200 with the original body and `Idempotent-Replayed: true`; with other bytes, 409.',
    request: {
      headers: z.object({ 'idempotency-key': z.string().min(1).max(255).optional() }),
      body: { required: true, content: { 'application/json': { schema: DeliverSchema } } },
    },
    responses: {
      202: json(AcceptedDeliverySchema, 'Accepted and stored'),
      200: json(
        AcceptedDeliverySchema,
        'A replay of an earlier request with the same idempotency key',
      ),
      ...errorResponses(400, 401, 403, 409, 413, 415, 422, 429),
    },
  }),
  async (c) => {
    const input = c.req.valid('json')
    const keyCheck = c.get('apiKeyCheck')
    const organizationId = scopedOrganization(keyCheck.organizationId, input.organizationId)
    const headerKey = c.req.valid('header')['idempotency-key']
    const bodyKey = input.options.idempotencyKey
    if (headerKey !== undefined && bodyKey !== undefined && headerKey !== bodyKey) {
      throw new ApiError(
        'idempotency_key_mismatch',
        'The Idempotency-Key header and options.idempotencyKey differ',
        {
          details: {
            issues: [
              {
                path: 'options.idempotencyKey',
                message: `differs from the ${IDEMPOTENCY_HEADER} header`,
              },
            ],
          },
        },
      )
    }
    const item = await prepareDelivery(
      c.env,
      organizationId,
      { input, text: c.get('rawBody') },
      0,
      bodyKey ?? headerKey ?? null,
      () => keyCheck.confirm(),
    )
    const stub = organizationStub(c.env, organizationId)
    const outcome = await stub.accept(keyCheck.credentials, [item], c.get('requestId'))
    c.executionCtx.waitUntil(discardUnusedPayloads(c.env, [item], outcome.results))
    keyCheck.settle(outcome.key)
    const [result] = outcome.results
    if (!result) throw new Error('accept returned no result')
    if (result.kind === 'rejected') throw await rejection(result, () => stub.ingestRetryAfterMs())
    if (result.kind === 'duplicate') {
      c.header('Idempotent-Replayed', 'true')
      return c.json(result.response, 200)
    }
    countAccepted(c, organizationId, [result.response])
    return c.json(result.response, 202)
  },
)

router.openapi(
  createRoute({
    method: 'post',
    path: '/v1/deliveries/batch',
    tags,
    summary: 'Accept up to 1,000 deliveries',
    description:
      "Each item is validated and accepted on its own, atomically; one item's rejection does not affect the others.",
    request: {
      body: { required: true, content: { 'application/json': { schema: BatchDeliverSchema } } },
    },
    responses: {
      200: json(BatchResultSchema, 'One result per item, by index'),
      ...errorResponses(400, 401, 413, 415),
    },
  }),
  async (c) => {
    const { deliveries } = c.req.valid('json')
    const keyCheck = c.get('apiKeyCheck')
    const keyOrganization = keyCheck.organizationId
    const texts = batchItemTexts(c.get('rawBody'))
    type Result = z.infer<typeof BatchResultSchema>['results'][number]
    const results: Result[] = new Array(deliveries.length)
    const prepared = await Promise.all(
      deliveries.map(async (raw, index) => {
        const parsed = DeliverSchema.safeParse(raw)
        if (!parsed.success) {
          const error = validationError(
            parsed.error.issues.map((issue) => ({
              ...issue,
              path: ['deliveries', index, ...issue.path],
            })),
          )
          results[index] = {
            index,
            status: 'rejected',
            error: { code: error.code, message: error.message, details: error.details },
          }
          return null
        }
        const requested = parsed.data.organizationId
        if (requested !== undefined && requested !== keyOrganization) {
          const path = formatPath(['deliveries', index, 'organizationId'])
          results[index] = {
            index,
            status: 'rejected',
            error: {
              code: 'organization_mismatch',
              message: `${path}: "${requested}" is not the organization of this API key`,
            },
          }
          return null
        }
        try {
          return await prepareDelivery(
            c.env,
            keyOrganization,
            { input: parsed.data, text: texts.get(index) as string },
            index,
            parsed.data.options.idempotencyKey ?? null,
            () => keyCheck.confirm(),
          )
        } catch (error) {
          // A refused key is the request's answer, never one item's.
          if (!(error instanceof ApiError) || keyCheck.refused) throw error
          results[index] = {
            index,
            status: 'rejected',
            error: { code: error.code, message: error.message, details: error.details },
          }
          return null
        }
      }),
    )
    const items = prepared.filter((item) => item !== null)
    // With nothing to accept, the key is still checked: by the middleware after this route.
    let accepted: AcceptResult[] = []
    if (items.length > 0) {
      const outcome = await organizationStub(c.env, keyOrganization).accept(
        keyCheck.credentials,
        items,
        c.get('requestId'),
      )
      c.executionCtx.waitUntil(discardUnusedPayloads(c.env, items, outcome.results))
      keyCheck.settle(outcome.key)
      accepted = outcome.results
    }
    countAccepted(
      c,
      keyOrganization,
      accepted.flatMap((result) => (result.kind === 'accepted' ? [result.response] : [])),
    )
    for (const result of accepted) {
      results[result.index] =
        result.kind === 'rejected'
          ? { index: result.index, status: 'rejected', error: result.error }
          : {
              index: result.index,
              status: result.kind === 'accepted' ? 'accepted' : 'duplicate',
              deliveryId: result.response.deliveryId,
              sequence: result.response.sequence,
            }
    }
    return c.json({ results }, 200)
  },
)

const ListQuery = PaginationQuerySchema.extend({
  organizationId: OrganizationIdSchema.optional(),
  status: z.enum(DELIVERY_STATUSES).optional(),
  destinationId: z.string().max(64).optional(),
  correlationId: z.string().max(255).optional(),
  tag: z.string().max(100).optional(),
  type: z.string().max(200).optional().openapi({ description: 'Payload type.' }),
  startDate: TimestampSchema.optional(),
  endDate: TimestampSchema.optional(),
})

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/deliveries',
    tags,
    summary: 'List deliveries, newest first',
    request: { query: ListQuery },
    responses: {
      200: json(
        z.object({ deliveries: z.array(DeliverySchema), nextCursor: z.string().nullable() }),
        'A page',
      ),
      ...errorResponses(400, 401, 403),
    },
  }),
  async (c) => {
    const query = c.req.valid('query')
    const organizationId = scopedOrganization(c.get('organizationId'), query.organizationId)
    const cursor = decodeCursor(query.cursor, 1)
    const startMs = query.startDate ? Date.parse(query.startDate) : undefined
    const endMs = query.endDate ? Date.parse(query.endDate) : undefined
    if (startMs !== undefined && endMs !== undefined && endMs < startMs)
      throw fieldError('query.endDate', 'must not be before startDate')
    const page = await organizationStub(c.env, organizationId).listDeliveries({
      limit: query.limit,
      beforeSequence: cursor ? Number(cursor[0]) : undefined,
      status: query.status,
      destinationId: query.destinationId,
      correlationId: query.correlationId,
      tag: query.tag,
      payloadType: query.type,
      startMs,
      endMs,
    })
    return c.json(
      {
        deliveries: page.deliveries,
        nextCursor: page.nextSequence === null ? null : encodeCursor([page.nextSequence]),
      },
      200,
    )
  },
)

function notFound(id: string): ApiError {
  return new ApiError('not_found', `Delivery "${id}" does not exist`)
}

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/deliveries/{id}',
    tags,
    summary: 'Status of a delivery and of each destination',
    request: { params: IdParams },
    responses: { 200: json(DeliverySchema, 'The delivery'), ...errorResponses(401, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid('param')
    const view = await organizationStub(c.env, c.get('organizationId')).getDelivery(id)
    if (!view) throw notFound(id)
    return c.json(view, 200)
  },
)

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/deliveries/{id}/attempts',
    tags,
    summary: 'Every attempt made for a delivery',
    request: { params: IdParams },
    responses: {
      200: json(z.object({ attempts: z.array(AttemptSchema) }), 'Attempts, oldest first'),
      ...errorResponses(401, 404),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param')
    const attempts = await organizationStub(c.env, c.get('organizationId')).listAttempts(id)
    if (!attempts) throw notFound(id)
    return c.json({ attempts }, 200)
  },
)

router.openapi(
  createRoute({
    method: 'post',
    path: '/v1/deliveries/{id}/retry',
    tags,
    summary: 'Retry the destinations of a delivery that failed',
    request: { params: IdParams },
    responses: { 200: json(DeliverySchema, 'Queued again'), ...errorResponses(401, 404, 409) },
  }),
  async (c) => {
    const { id } = c.req.valid('param')
    const result = await organizationStub(c.env, c.get('organizationId')).retryDelivery(id)
    if (!result.ok) {
      if (result.reason === 'not_found') throw notFound(id)
      throw new ApiError('nothing_to_retry', `Delivery "${id}" has no failed destination to retry`)
    }
    return c.json(result.delivery, 200)
  },
)

export const deliveryRoutes = router
