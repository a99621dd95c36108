/**
 * Alert rules: what to watch (a kind and its condition), which destinations it covers,
 * who is told (webhook or e-mail destinations of the organization) and how often at most.
 */
import { z } from '@hono/zod-openapi'
import { OrganizationIdSchema } from './common'

export const ALERT_KINDS = [
  'failure_rate',
  'consecutive_failures',
  'backlog_age',
  'latency',
] as const
export type AlertKind = (typeof ALERT_KINDS)[number]

const WindowMinutes = z.number().int().min(1).max(1440).default(15).openapi({
  description: 'The trailing window, in whole minutes (the current one included). Default 15.',
})

export const FailureRateConditionSchema = z
  .strictObject({
    threshold: z.number().gt(0).max(1).openapi({
      description:
        'Fires when failed / (delivered + failed), over final outcomes in the window, reaches this share.',
      example: 0.2,
    }),
    windowMinutes: WindowMinutes,
    minOutcomes: z.number().int().min(1).max(1_000_000).default(10).openapi({
      description: 'Final outcomes the window needs before the rate counts. Default 10.',
    }),
  })
  .openapi('FailureRateCondition')

export const ConsecutiveFailuresConditionSchema = z
  .strictObject({
    threshold: z.number().int().min(1).max(10_000).openapi({
      description: 'Fires when a destination has failed this many attempts in a row.',
      example: 5,
    }),
  })
  .openapi('ConsecutiveFailuresCondition')

export const BacklogAgeConditionSchema = z
  .strictObject({
    thresholdSeconds: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .openapi({
        description:
          'Fires when the oldest unsettled delivery of a destination was accepted this long ago.',
        example: 900,
      }),
  })
  .openapi('BacklogAgeCondition')

export const LatencyConditionSchema = z
  .strictObject({
    percentile: z.enum(['p50', 'p95', 'p99']).default('p95'),
    thresholdMs: z.number().int().min(1).max(600_000).openapi({
      description:
        'Fires when the percentile of attempt latency in the window (estimated from the histogram, see GET /v1/metrics) reaches this.',
      example: 2000,
    }),
    windowMinutes: WindowMinutes,
    minAttempts: z.number().int().min(1).max(1_000_000).default(10).openapi({
      description: 'Attempts the window needs before the percentile counts. Default 10.',
    }),
  })
  .openapi('LatencyCondition')

export const CONDITION_SCHEMAS = {
  failure_rate: FailureRateConditionSchema,
  consecutive_failures: ConsecutiveFailuresConditionSchema,
  backlog_age: BacklogAgeConditionSchema,
  latency: LatencyConditionSchema,
} as const

export type AlertCondition =
  | { kind: 'failure_rate'; condition: z.infer<typeof FailureRateConditionSchema> }
  | { kind: 'consecutive_failures'; condition: z.infer<typeof ConsecutiveFailuresConditionSchema> }
  | { kind: 'backlog_age'; condition: z.infer<typeof BacklogAgeConditionSchema> }
  | { kind: 'latency'; condition: z.infer<typeof LatencyConditionSchema> }

const common = {
  name: z.string().trim().min(1).max(200),
  destinationId: z.string().min(1).max(64).nullable().default(null).openapi({
    description: 'Watch only this destination; null watches all of the organization.',
  }),
  notify: z.array(z.string().min(1).max(64)).min(1).max(10).openapi({
    description:
      'Ids of webhook or e-mail destinations of the organization that receive the alert.',
  }),
  cooldownMinutes: z.number().int().min(0).max(10_080).default(60).openapi({
    description:
      'After firing, the rule stays quiet this long even if the condition holds. Default 60.',
  }),
  enabled: z.boolean().default(true),
}

const variant = <K extends AlertKind>(kind: K) =>
  z.strictObject({
    organizationId: OrganizationIdSchema.optional(),
    kind: z.literal(kind),
    condition: CONDITION_SCHEMAS[kind],
    ...common,
  })

export const CreateAlertRuleSchema = z
  .discriminatedUnion('kind', [
    variant('failure_rate'),
    variant('consecutive_failures'),
    variant('backlog_age'),
    variant('latency'),
  ])
  .openapi('CreateAlertRule')

export type CreateAlertRuleInput = z.infer<typeof CreateAlertRuleSchema>

export const UpdateAlertRuleSchema = z
  .strictObject({
    organizationId: OrganizationIdSchema.optional(),
    name: common.name.optional(),
    kind: z.enum(ALERT_KINDS).optional().openapi({
      description: 'Changing the kind needs a `condition` of the new kind in the same request.',
    }),
    condition: z.record(z.string(), z.unknown()).optional(),
    destinationId: z.string().min(1).max(64).nullable().optional(),
    notify: common.notify.optional(),
    cooldownMinutes: z.number().int().min(0).max(10_080).optional(),
    enabled: z.boolean().optional(),
  })
  .openapi('UpdateAlertRule')

export type UpdateAlertRuleInput = z.infer<typeof UpdateAlertRuleSchema>

export const AlertRuleSchema = z
  .object({
    id: z.string().openapi({ example: 'alr_k3m5q7s2u4w6y8a2c4e6' }),
    organizationId: z.string(),
    name: z.string(),
    kind: z.enum(ALERT_KINDS),
    condition: z.record(z.string(), z.unknown()),
    destinationId: z.string().nullable(),
    notify: z.array(z.string()),
    cooldownMinutes: z.number().int(),
    enabled: z.boolean(),
    lastFiredAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('AlertRule')

export type AlertRule = z.infer<typeof AlertRuleSchema>
