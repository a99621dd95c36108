/** Metrics: the query of `GET /v1/metrics` and its answer. */
import { z } from '@hono/zod-openapi'
import { OrganizationIdSchema, TimestampSchema } from './common'
import { DESTINATION_TYPES } from './destination'

export const MetricsQuerySchema = z.object({
  organizationId: OrganizationIdSchema.optional().openapi({
    description: "Optional; when given it must be the API key's organization.",
  }),
  startDate: TimestampSchema.optional().openapi({
    description: 'Start of the range (ISO 8601); default 24 hours before `endDate`.',
  }),
  endDate: TimestampSchema.optional().openapi({
    description: 'End of the range (ISO 8601, exclusive); default now.',
  }),
  granularity: z
    .enum(['minute', 'hour', 'day'])
    .default('hour')
    .openapi({ description: 'Slot size of `timeSeries` (UTC). Default `hour`.' }),
  destinationType: z.enum(DESTINATION_TYPES).optional(),
  destinationId: z.string().min(1).max(64).optional(),
})

const Totals = z
  .object({
    accepted: z.number().int().openapi({ description: '(Delivery, destination) pairs accepted.' }),
    delivered: z.number().int().openapi({ description: 'Pairs delivered (final outcome).' }),
    failed: z.number().int().openapi({ description: 'Pairs failed for good (final outcome).' }),
    retried: z
      .number()
      .int()
      .openapi({ description: 'Attempts that failed and left the pair for another attempt.' }),
    attempts: z.number().int(),
  })
  .openapi('MetricTotals')

const SuccessRate = z.number().nullable().openapi({
  description: 'delivered / (delivered + failed), from final outcomes; null when there were none.',
})

const LatencyPoint = z.object({
  count: z.number().int().openapi({ description: 'Attempts observed.' }),
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
  mean: z.number().nullable(),
})

const Latency = LatencyPoint.extend({
  buckets: z.array(
    z.object({
      le: z
        .number()
        .nullable()
        .openapi({ description: 'Upper edge in ms (inclusive); null for the open top bucket.' }),
      count: z.number().int(),
    }),
  ),
}).openapi('MetricLatency', {
  description:
    'Attempt latency in ms. Buckets end at 50, 100, 250, 500, 1000, 2500, 5000, 10000 and 30000 ms, then an open top bucket. Percentiles are estimated like Prometheus `histogram_quantile`: linear interpolation inside the bucket holding the rank (the first bucket starts at 0); a rank in the top bucket reads 30000, a lower bound. The mean is exact.',
})

const Figures = { totals: Totals, successRate: SuccessRate, latency: Latency }

const Backlog = z
  .object({
    destinationId: z.string(),
    destinationType: z.enum(DESTINATION_TYPES).nullable(),
    label: z.string().nullable(),
    queued: z.number().int().openapi({ description: 'Free to go now.' }),
    held: z.number().int().openapi({
      description:
        'Pending but held: destination disabled, circuit open, or waiting behind an earlier delivery (strict order).',
    }),
    retrying: z.number().int().openapi({ description: 'Waiting for their next attempt.' }),
    delivering: z.number().int().openapi({ description: 'Released to the queue.' }),
    oldestAgeMs: z.number().int().nullable().openapi({
      description: 'Age of the oldest unsettled item since acceptance; null when none.',
    }),
  })
  .openapi('DestinationBacklog')

export const DeliveryMetricsSchema = z
  .object({
    organizationId: z.string(),
    startDate: z.string().openapi({ description: 'The range used: whole minutes, UTC.' }),
    endDate: z.string(),
    granularity: z.enum(['minute', 'hour', 'day']),
    ...Figures,
    byType: z.array(z.object({ destinationType: z.string(), ...Figures })),
    byDestination: z.array(
      z.object({
        destinationId: z.string(),
        destinationType: z.string(),
        label: z
          .string()
          .nullable()
          .openapi({ description: 'Null once the destination is deleted.' }),
        ...Figures,
      }),
    ),
    timeSeries: z.array(
      z.object({
        start: z.string(),
        totals: Totals,
        successRate: SuccessRate,
        latency: LatencyPoint,
      }),
    ),
    backlog: z.array(Backlog).openapi({ description: 'Now, not over the range.' }),
  })
  .openapi('DeliveryMetrics')
