/**
 * Answers of the per-destination operations (health, connection test, recover and
 * replay), kept here so the routes and the TypeScript client share one definition.
 */
import { z } from '@hono/zod-openapi'
import { DeliveryReferenceSchema } from './delivery'
import { DESTINATION_TYPES } from './destination'

export const DestinationHealthSchema = z
  .object({
    destinationId: z.string(),
    disabled: z.boolean(),
    disabledReason: z.string().nullable(),
    consecutiveFailures: z.number().int(),
    circuit: z.enum(['closed', 'open', 'half_open']),
    openedAt: z.string().nullable(),
    probeAt: z.string().nullable(),
    firstFailureAt: z.string().nullable(),
    lastFailureAt: z.string().nullable(),
    lastSuccessAt: z.string().nullable(),
    successRate: z.number().nullable(),
    windowSize: z.number().int(),
    backlog: z.object({
      queued: z.number().int(),
      retrying: z.number().int(),
      delivering: z.number().int(),
      oldestAgeMs: z.number().nullable(),
    }),
  })
  .openapi('DestinationHealth')

export const RequeueResultSchema = z
  .object({
    destinationId: z.string(),
    since: z.string(),
    requeued: z.number().int(),
  })
  .openapi('RequeueResult')

export const DestinationTestResultSchema = z
  .object({
    destinationId: z.string(),
    type: z.enum(DESTINATION_TYPES),
    ok: z
      .boolean()
      .openapi({ description: 'Whether the destination answered as a delivery needs.' }),
    outcome: z.enum(['delivered', 'retryable', 'permanent']).openapi({
      description: 'How a delivery attempt with the same answer would be classified.',
    }),
    code: z.string().nullable().openapi({ example: 'http_401' }),
    message: z.string().nullable(),
    httpStatus: z.number().int().nullable(),
    reference: DeliveryReferenceSchema.nullable(),
    durationMs: z.number().int(),
    testedAt: z.string(),
  })
  .openapi('DestinationTestResult')
