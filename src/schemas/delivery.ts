/**
 * Deliveries: the seed's `deliver` input, the 202 answer, and the status views. The
 * payload's `data` and `metadata` are validated here as JSON values, but what reaches the
 * destinations is their original text (see `lib/json-spans.ts`), never a re-serialization.
 */
import { z } from '@hono/zod-openapi'
import { OrganizationIdSchema } from './common'
import { DESTINATION_TYPES } from './destination'

const DestinationRef = z
  .string()
  .min(1)
  .max(200)
  .openapi({ description: 'A destination id (`dst_…`), a label, or `default`.' })

export const DeliverSchema = z
  .strictObject({
    organizationId: OrganizationIdSchema.optional(),
    destinations: z.union([DestinationRef, z.array(DestinationRef).min(1).max(50)]).openapi({
      description: '`default`, one destination, or a list that may include `default`.',
    }),
    payload: z.strictObject({
      type: z.string().min(1).max(200),
      data: z.unknown().refine((value) => value !== undefined, 'is required'),
      metadata: z.record(z.string(), z.unknown()).optional(),
    }),
    options: z
      .strictObject({
        priority: z.number().int().min(0).max(10).default(5),
        idempotencyKey: z.string().min(1).max(255).optional(),
        correlationId: z.string().min(1).max(255).optional(),
        tags: z.array(z.string().min(1).max(100)).max(50).default([]),
      })
      .prefault({}),
  })
  .openapi('Deliver')

export type DeliverInput = z.infer<typeof DeliverSchema>

export const DESTINATION_STATUSES = [
  'queued',
  'held',
  'delivering',
  'retrying',
  'delivered',
  'failed',
  'skipped',
] as const
export type DestinationStatus = (typeof DESTINATION_STATUSES)[number]

export const DELIVERY_STATUSES = [
  'queued',
  'in_progress',
  'delivered',
  'partially_delivered',
  'failed',
] as const
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number]

export const AcceptedDeliverySchema = z
  .object({
    deliveryId: z.string().openapi({ example: 'dlv_k3m5q7s2u4w6y8a2c4e6' }),
    organizationId: z.string(),
    sequence: z
      .number()
      .int()
      .openapi({ description: 'Gap-free, strictly increasing per organization.' }),
    status: z.literal('queued'),
    acceptedAt: z.string(),
    destinations: z.array(
      z.object({
        destinationId: z.string(),
        label: z.string(),
        type: z.enum(DESTINATION_TYPES),
        status: z.enum(DESTINATION_STATUSES),
      }),
    ),
  })
  .openapi('AcceptedDelivery')

export type AcceptedDelivery = z.infer<typeof AcceptedDeliverySchema>

export const DeliveryErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  httpStatus: z.number().int().nullable(),
})

export const DeliveryReferenceSchema = z.object({
  objectKey: z.string().optional(),
  messageId: z.string().optional(),
  downloadUrl: z.string().optional(),
  expiresAt: z.string().optional(),
  httpStatus: z.number().int().optional(),
})

export const DeliveryTargetSchema = z.object({
  destinationId: z.string(),
  label: z.string(),
  type: z.enum(DESTINATION_TYPES),
  status: z.enum(DESTINATION_STATUSES),
  /** The stable id receivers deduplicate on (`webhook-id`, provider idempotency key). */
  messageId: z.string(),
  attempts: z.number().int(),
  lastAttemptAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  lastError: DeliveryErrorSchema.nullable(),
  reference: DeliveryReferenceSchema.nullable(),
  /** Why the destination is held or skipped, when it is. */
  reason: z.string().nullable(),
})

export const DeliverySchema = z
  .object({
    deliveryId: z.string(),
    organizationId: z.string(),
    sequence: z.number().int(),
    status: z.enum(DELIVERY_STATUSES),
    payloadType: z.string(),
    priority: z.number().int(),
    correlationId: z.string().nullable(),
    idempotencyKey: z.string().nullable(),
    tags: z.array(z.string()),
    acceptedAt: z.string(),
    updatedAt: z.string(),
    destinations: z.array(DeliveryTargetSchema),
  })
  .openapi('Delivery')

export type DeliveryView = z.infer<typeof DeliverySchema>

export const AttemptSchema = z
  .object({
    attemptId: z.string(),
    deliveryId: z.string(),
    destinationId: z.string(),
    attempt: z.number().int(),
    startedAt: z.string(),
    durationMs: z.number().int(),
    outcome: z.enum(['delivered', 'retryable', 'permanent']),
    error: DeliveryErrorSchema.nullable(),
    reference: DeliveryReferenceSchema.nullable(),
  })
  .openapi('Attempt')

export type AttemptView = z.infer<typeof AttemptSchema>

export const BatchDeliverSchema = z
  .strictObject({
    deliveries: z.array(z.unknown()).min(1).max(1000).openapi({
      description: 'Up to 1,000 `Deliver` bodies; each is validated and accepted on its own.',
    }),
  })
  .openapi('BatchDeliver')

export const BatchResultSchema = z
  .object({
    results: z.array(
      z.object({
        index: z.number().int(),
        status: z.enum(['accepted', 'duplicate', 'rejected']),
        deliveryId: z.string().optional(),
        sequence: z.number().int().optional(),
        error: z
          .object({ code: z.string(), message: z.string(), details: z.unknown().optional() })
          .optional(),
      }),
    ),
  })
  .openapi('BatchResult')
