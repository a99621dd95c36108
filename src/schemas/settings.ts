/**
 * Organization settings: the retry policy in the seed's terms, webhook secret rotation,
 * health thresholds and limits. Every field has a documented default, so `{}` is valid.
 */
import { z } from '@hono/zod-openapi'

const HOUR = 3_600_000

export const RetryPolicySchema = z
  .strictObject({
    maxAttempts: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(5)
      .openapi({ description: 'Attempts per destination, first included. Default 5.' }),
    baseDelay: z
      .number()
      .int()
      .min(100)
      .max(24 * HOUR)
      .default(1000)
      .openapi({
        description: 'First retry delay in ms; doubles each attempt, with jitter. Default 1000.',
      }),
    maxDelay: z
      .number()
      .int()
      .min(100)
      .max(7 * 24 * HOUR)
      .default(300_000)
      .openapi({ description: 'Cap on one retry delay in ms. Default 300000 (5 min).' }),
  })
  .refine((retry) => retry.maxDelay >= retry.baseDelay, {
    message: 'maxDelay must be at least baseDelay',
    path: ['maxDelay'],
  })

export const SecuritySettingsSchema = z.strictObject({
  webhookSecrets: z
    .strictObject({
      rotationDays: z.number().int().min(0).max(365).default(0).openapi({
        description:
          'Rotate webhook secrets automatically every N days; 0 turns it off. Needs `alertDestinationId`.',
      }),
      graceHours: z.number().int().min(1).max(168).default(24).openapi({
        description: 'Hours the previous secret keeps signing beside the new one. Default 24.',
      }),
    })
    .prefault({}),
  /** Accepted for the seed's `security.encryption`; payloads are always encrypted at rest. */
  encryption: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  /** Accepted for the seed's `security.organizationIsolation`; isolation cannot be turned off. */
  organizationIsolation: z.literal(true).default(true),
  accessControl: z.strictObject({ enabled: z.literal(true).default(true) }).prefault({}),
  alertDestinationId: z.string().nullable().default(null).openapi({
    description:
      'Destination (webhook or email) that receives operational events such as new rotated secrets.',
  }),
})

export const HealthSettingsSchema = z.strictObject({
  failureThreshold: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(5)
    .openapi({ description: 'Consecutive failures that open the circuit. Default 5.' }),
  cooldownMs: z
    .number()
    .int()
    .min(1000)
    .max(24 * HOUR)
    .default(60_000)
    .openapi({ description: 'Wait before a probe while the circuit is open. Default 60000.' }),
  disableAfterHours: z
    .number()
    .int()
    .min(1)
    .max(90 * 24)
    .default(120)
    .openapi({
      description: 'Disable a destination that keeps failing this long. Default 120 (5 days).',
    }),
})

export const LimitsSchema = z.strictObject({
  ingestPerSecond: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(1000)
    .openapi({ description: 'Sustained deliveries accepted per second. Default 1000.' }),
  ingestBurst: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(5000)
    .openapi({ description: 'Deliveries accepted in a burst. Default 5000.' }),
  maxInFlightPerDestination: z.number().int().min(1).max(1000).default(50).openapi({
    description: 'Messages released to the queue per destination at once. Default 50.',
  }),
  idempotencyTtlHours: z
    .number()
    .int()
    .min(24)
    .max(720)
    .default(24)
    .openapi({ description: 'How long idempotency keys are remembered. Default 24.' }),
  retentionDays: z.number().int().min(1).max(3650).default(90).openapi({
    description: 'Days delivery records stay queryable before they are archived to R2. Default 90.',
  }),
})

export const SettingsSchema = z
  .strictObject({
    retry: RetryPolicySchema.prefault({}),
    security: SecuritySettingsSchema.prefault({}),
    health: HealthSettingsSchema.prefault({}),
    limits: LimitsSchema.prefault({}),
  })
  .openapi('Settings')

export type Settings = z.infer<typeof SettingsSchema>

/** The defaults, as `GET /v1/settings` answers for a new organization. */
export function defaultSettings(): Settings {
  return SettingsSchema.parse({})
}
