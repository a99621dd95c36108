/**
 * Destinations as tenants create them: exactly the seed's `createDestination` input, with
 * every field validated and errors naming the field path. Checks that depend on the
 * deployment or on other rows (the address guard of `security/url-guard.ts`, the
 * development flag, shared buckets, the notify destination) run after these schemas, in
 * `services/destinations/input-checks.ts`. Unknown fields are refused, not dropped.
 */
import { z } from '@hono/zod-openapi'
import { templateProblem } from '../lib/template-check'
import { OrganizationIdSchema } from './common'

export const DESTINATION_TYPES = ['webhook', 'storage', 'email', 'download'] as const
export type DestinationType = (typeof DESTINATION_TYPES)[number]

/** `whsec_` and the base64 of at least 24 random bytes (Standard Webhooks). */
export const WebhookSecretSchema = z
  .string()
  .regex(
    /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/,
    'must be "whsec_" followed by the base64 of at least 24 bytes',
  )

const HeaderValue = z
  .string()
  .max(2048)
  .refine((value) => !/[\r\n\0]/.test(value), 'must not contain CR, LF or NUL')

/**
 * A credential or name that travels in a header or a protocol line (an API key in
 * Authorization, a KMS key id in x-amz-*, an SMTP password): CR or LF could start a new one.
 */
function singleLine(min: number, max: number) {
  return z
    .string()
    .min(min)
    .max(max)
    .refine((value) => !/[\r\n]/.test(value), 'must not contain CR or LF')
}

/** Headers the service sets itself on every webhook request; a tenant cannot override them. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
])

/** An HTTP field name (RFC 9110 token), checked here so the error names the header. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/

const WebhookHeadersSchema = z.record(z.string(), HeaderValue).superRefine((headers, ctx) => {
  const names = Object.keys(headers)
  if (names.length > 50) ctx.addIssue({ code: 'custom', message: 'must have at most 50 headers' })
  for (const name of names) {
    const lower = name.toLowerCase()
    if (!HEADER_NAME.test(name)) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'must be a valid header name' })
    } else if (lower.startsWith('webhook-')) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: 'is reserved: webhook-* headers carry the Standard Webhooks signature',
      })
    } else if (RESERVED_HEADERS.has(lower)) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'is reserved: the service sets it' })
    } else if (
      lower === 'content-type' &&
      headers[name]?.trim().toLowerCase() !== 'application/json'
    ) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: 'must be application/json (the body is always JSON)',
      })
    }
  }
})

export const WebhookConfigSchema = z.strictObject({
  url: z.string().url().max(2048),
  method: z.enum(['POST', 'PUT', 'PATCH']).default('POST'),
  headers: WebhookHeadersSchema.default({}).openapi({
    description:
      'Extra request headers. Content-Type may only be application/json; webhook-*, Host and Content-Length are reserved. Values of credential-like headers (Authorization, *-Key, *-Token…) are stored encrypted and masked.',
  }),
  timeout: z
    .number()
    .int()
    .min(1000)
    .max(30_000)
    .default(10_000)
    .openapi({ description: 'Milliseconds before an attempt is abandoned, 1000 to 30000.' }),
  secret: WebhookSecretSchema.optional().openapi({
    description: 'Signing secret; generated when absent and shown only on create and rotation.',
  }),
})

export const S3ConfigSchema = z
  .strictObject({
    region: z
      .string()
      .regex(/^[a-z0-9-]{2,32}$/, 'must be an AWS region such as us-east-1')
      .default('us-east-1'),
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name'),
    endpoint: z
      .string()
      .url()
      .max(2048)
      .optional()
      .openapi({ description: 'S3-compatible endpoint; AWS when absent.' }),
    accessKeyId: singleLine(1, 256).optional(),
    secretAccessKey: singleLine(1, 256).optional(),
    serverSideEncryption: z.enum(['AES256', 'aws:kms', 'aws:kms:dsse']).optional(),
    kmsKeyId: singleLine(1, 2048).optional(),
    storageClass: z
      .enum([
        'STANDARD',
        'STANDARD_IA',
        'ONEZONE_IA',
        'INTELLIGENT_TIERING',
        'GLACIER',
        'GLACIER_IR',
        'DEEP_ARCHIVE',
        'REDUCED_REDUNDANCY',
      ])
      .optional(),
    forcePathStyle: z.boolean().default(true).openapi({
      description: 'Address the bucket in the path (needed by most S3-compatible stores).',
    }),
  })
  .superRefine((config, ctx) => {
    pairedKeys(config, ctx)
    if (config.kmsKeyId && !config.serverSideEncryption?.startsWith('aws:kms')) {
      ctx.addIssue({
        code: 'custom',
        path: ['kmsKeyId'],
        message: 'needs serverSideEncryption "aws:kms" or "aws:kms:dsse"',
      })
    }
  })

/** Access keys come as a pair: one without the other is a mistake, not a request for defaults. */
function pairedKeys(
  config: { accessKeyId?: string | undefined; secretAccessKey?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (config.accessKeyId !== undefined && config.secretAccessKey === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['secretAccessKey'],
      message: 'is required with accessKeyId',
    })
  }
  if (config.secretAccessKey !== undefined && config.accessKeyId === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['accessKeyId'],
      message: 'is required with secretAccessKey',
    })
  }
}

export const R2ConfigSchema = z.strictObject({}).openapi({
  description: "R2 writes to the service's bound bucket, under the organization's own prefix.",
})

export const RetentionSchema = z.strictObject({
  days: z.number().int().min(1).max(36_500),
  autoCleanup: z.boolean().default(false),
})

/** Placeholders a storage path template may use. */
export const PATH_PLACEHOLDERS = [
  'organizationId',
  'year',
  'month',
  'day',
  'hour',
  'type',
  'deliveryId',
] as const

/** The first problem of a path template (already trimmed of outer slashes), or null. */
export function pathTemplateProblem(path: string): string | null {
  if (path === '') return 'must name at least one folder'
  if (path.includes('\\')) return 'must not contain backslashes'
  if (path.includes('..')) return 'must not contain ".."'
  if (path.split('/').some((segment) => segment === '' || segment === '.')) {
    return 'must not contain empty or "." segments'
  }
  for (const [, name] of path.matchAll(/\{([^{}]*)\}/g)) {
    if (!(PATH_PLACEHOLDERS as readonly string[]).includes(name as string)) {
      return `has an unknown placeholder {${name}}; use ${PATH_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`
    }
  }
  const literal = path.replace(/\{[A-Za-z]+\}/g, '')
  if (/[{}]/.test(literal)) return 'has an unmatched brace'
  if (!/^[A-Za-z0-9!_.*'()/=-]*$/.test(literal)) {
    return "may contain only letters, digits, placeholders, / and - _ . ! * ' ( ) ="
  }
  return null
}

const PathTemplateSchema = z
  .string()
  .max(512)
  .default('{organizationId}/{year}/{month}/{day}')
  .transform((path, ctx) => {
    const trimmed = path.replace(/^\/+|\/+$/g, '')
    const problem = pathTemplateProblem(trimmed)
    if (problem) ctx.addIssue({ code: 'custom', message: problem })
    return trimmed
  })
  .openapi({
    description:
      'Key template: {organizationId} {year} {month} {day} {hour} {type} {deliveryId}; leading and trailing slashes are trimmed; "..", empty segments and backslashes are refused.',
  })

const StorageCommon = {
  path: PathTemplateSchema,
  retention: RetentionSchema.optional(),
}

export const StorageConfigSchema = z.discriminatedUnion('provider', [
  z.strictObject({ provider: z.literal('s3'), config: S3ConfigSchema, ...StorageCommon }),
  z.strictObject({
    provider: z.literal('r2'),
    config: R2ConfigSchema.default({}),
    ...StorageCommon,
  }),
])

const EmailAddress = z.string().email().max(254)

export const EmailProviderConfigSchema = z.strictObject({
  region: z
    .string()
    .regex(/^[a-z0-9-]{2,32}$/, 'must be an AWS region such as us-east-1')
    .optional(),
  configurationSet: singleLine(0, 256).optional(),
  accessKeyId: singleLine(1, 256).optional(),
  secretAccessKey: singleLine(1, 256).optional(),
  host: z.string().min(1).max(253).optional().openapi({ description: 'SMTP host.' }),
  port: z.number().int().min(1).max(65_535).optional(),
  secure: z
    .enum(['tls', 'starttls', 'none'])
    .optional()
    .openapi({ description: 'SMTP transport security; "none" only under the development flag.' }),
  username: z
    .string()
    .max(256)
    .refine((value) => !/[\r\n]/.test(value), 'must not contain CR or LF')
    .optional(),
  password: singleLine(0, 256).optional(),
  endpoint: z
    .string()
    .url()
    .max(2048)
    .optional()
    .openapi({ description: 'Provider API base URL override; only under the development flag.' }),
})

export const EmailEncryptionSchema = z.strictObject({
  enabled: z.boolean(),
  algorithm: z.literal('AES-256-GCM').default('AES-256-GCM'),
  key: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be the base64 of 32 bytes (an AES-256 key)')
    .optional()
    .openapi({
      description:
        'Base64 AES-256 key; generated when encryption is enabled without one, and shown only in that response.',
    }),
})

const EMAIL_SERVICES = ['ses', 'sendgrid', 'resend', 'postmark', 'smtp'] as const
type EmailService = (typeof EMAIL_SERVICES)[number]

/** Which provider settings each e-mail service reads; any other one is refused. */
const EMAIL_SETTINGS: Record<EmailService, readonly string[]> = {
  ses: ['region', 'configurationSet', 'accessKeyId', 'secretAccessKey', 'endpoint'],
  sendgrid: ['endpoint'],
  resend: ['endpoint'],
  postmark: ['endpoint'],
  smtp: ['host', 'port', 'secure', 'username', 'password'],
}
const API_KEY_SERVICES: readonly EmailService[] = ['sendgrid', 'resend', 'postmark']

const Template = z
  .string()
  .max(100_000)
  .superRefine((template, ctx) => {
    const problem = templateProblem(template)
    if (problem) ctx.addIssue({ code: 'custom', message: problem })
  })

export const EmailConfigSchema = z
  .strictObject({
    service: z.enum(EMAIL_SERVICES),
    config: EmailProviderConfigSchema.default({}),
    apiKey: singleLine(1, 512)
      .optional()
      .openapi({ description: 'API key for sendgrid, resend and postmark.' }),
    from: EmailAddress.refine((value) => !/[\r\n]/.test(value), 'must not contain CR or LF'),
    recipients: z.array(EmailAddress).min(1).max(50),
    subject: z
      .string()
      .min(1)
      .max(998)
      .refine((value) => !/[\r\n]/.test(value), 'must not contain CR or LF')
      .superRefine((template, ctx) => {
        const problem = templateProblem(template)
        if (problem) ctx.addIssue({ code: 'custom', message: problem })
      }),
    bodyTemplate: Template.optional(),
    htmlTemplate: Template.optional(),
    encryption: EmailEncryptionSchema.optional(),
  })
  .superRefine((email, ctx) => {
    const settings = EMAIL_SETTINGS[email.service]
    for (const [name, value] of Object.entries(email.config)) {
      if (value !== undefined && !settings.includes(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['config', name],
          message: `does not apply to the ${email.service} service`,
        })
      }
    }
    const needsKey = API_KEY_SERVICES.includes(email.service)
    if (needsKey && email.apiKey === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['apiKey'],
        message: `is required for the ${email.service} service`,
      })
    }
    if (!needsKey && email.apiKey !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['apiKey'],
        message: `does not apply to the ${email.service} service`,
      })
    }
    if (email.service === 'smtp' && email.config.host === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['config', 'host'],
        message: 'is required for the smtp service',
      })
    }
    if (email.service === 'smtp' && email.config.password !== undefined && !email.config.username) {
      ctx.addIssue({
        code: 'custom',
        path: ['config', 'username'],
        message: 'is required with password',
      })
    }
    if (email.service === 'ses') pairedKeys(email.config, ctx)
  })

export const DownloadConfigSchema = z.strictObject({
  expiresIn: z
    .number()
    .int()
    .min(60)
    .max(604_800)
    .default(86_400)
    .openapi({ description: 'Link lifetime in seconds, at most 7 days. Default 1 day.' }),
  maxDownloads: z.number().int().min(1).max(10_000).default(10),
  notifyDestinationId: z.string().optional().openapi({
    description:
      'An e-mail or webhook destination of the organization that receives each new link.',
  }),
})

/** How the outbox releases work to this destination (parallel by default). */
export const DeliveryPolicySchema = z.strictObject({
  ordering: z.enum(['parallel', 'strict']).default('parallel'),
  onExhausted: z.enum(['wait', 'skip']).default('skip').openapi({
    description:
      'Strict ordering only: after the last retry, hold the line (wait) or move on (skip).',
  }),
  maxConcurrency: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .openapi({ description: "Messages in flight at once; the organization's limit when absent." }),
  ratePerSecond: z.number().int().min(1).max(10_000).optional(),
})

const ConfigByType = z.strictObject({
  webhook: WebhookConfigSchema.optional(),
  storage: StorageConfigSchema.optional(),
  email: EmailConfigSchema.optional(),
  download: DownloadConfigSchema.optional(),
})

export const LabelSchema = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((label) => label.toLowerCase() !== 'default', {
    message: 'is reserved: deliveries send to "default" for the default destinations',
  })
  .refine((label) => !label.startsWith('dst_'), {
    message: 'must not start with "dst_", the prefix of destination ids',
  })
  .refine((label) => !/[\p{Cc}]/u.test(label), { message: 'must not contain control characters' })
  .openapi({ description: 'Unique in the organization; deliveries may name a destination by it.' })

export const CreateDestinationSchema = z
  .strictObject({
    organizationId: OrganizationIdSchema.optional(),
    label: LabelSchema,
    type: z.enum(DESTINATION_TYPES),
    description: z.string().max(1000).optional(),
    config: ConfigByType,
    isDefault: z.boolean().optional(),
    disabled: z.boolean().optional(),
    delivery: DeliveryPolicySchema.optional(),
  })
  .superRefine((input, ctx) => {
    const present = Object.keys(input.config).filter(
      (key) => input.config[key as DestinationType] !== undefined,
    )
    if (!present.includes(input.type)) {
      ctx.addIssue({
        code: 'custom',
        path: ['config', input.type],
        message: `is required for a ${input.type} destination`,
      })
    }
    for (const other of present.filter((key) => key !== input.type)) {
      ctx.addIssue({
        code: 'custom',
        path: ['config', other],
        message: `does not belong to a ${input.type} destination`,
      })
    }
  })
  .openapi('CreateDestination')

export type CreateDestinationInput = z.infer<typeof CreateDestinationSchema>
export type WebhookConfig = z.infer<typeof WebhookConfigSchema>
export type StorageConfig = z.infer<typeof StorageConfigSchema>
export type EmailConfig = z.infer<typeof EmailConfigSchema>
export type DownloadConfig = z.infer<typeof DownloadConfigSchema>
export type DeliveryPolicy = z.infer<typeof DeliveryPolicySchema>

/** A destination with its secrets opened, as the delivery handlers receive it. */
export type LoadedDestination =
  | (DestinationBase & {
      type: 'webhook'
      config: WebhookConfig & { secret: string; previousSecrets: PreviousSecret[] }
    })
  | (DestinationBase & { type: 'storage'; config: StorageConfig })
  | (DestinationBase & { type: 'email'; config: EmailConfig })
  | (DestinationBase & { type: 'download'; config: DownloadConfig })

/** A secret replaced by rotation that keeps signing until `expiresAt`. */
export interface PreviousSecret {
  secret: string
  expiresAt: string
}

interface DestinationBase {
  id: string
  organizationId: string
  label: string
  description: string | null
  isDefault: boolean
  disabled: boolean
  disabledReason: string | null
  delivery: DeliveryPolicy
  createdAt: string
  updatedAt: string
}

/**
 * A PATCH body: a JSON Merge Patch (RFC 7396) over the destination's create body. Objects
 * merge, `null` removes a field, masked secrets sent back mean "unchanged"; the merged
 * result is then validated exactly like a create. `type` cannot change.
 */
export const UpdateDestinationSchema = z
  .strictObject({
    organizationId: OrganizationIdSchema.optional(),
    label: z.string().optional(),
    type: z.enum(DESTINATION_TYPES).optional(),
    description: z.string().nullable().optional(),
    config: z.record(z.string(), z.unknown()).optional(),
    isDefault: z.boolean().optional(),
    disabled: z.boolean().optional(),
    delivery: z.record(z.string(), z.unknown()).nullable().optional(),
  })
  .openapi('UpdateDestination')

export type UpdateDestinationInput = z.infer<typeof UpdateDestinationSchema>

/** A destination as responses show it: secrets masked as `****` and their last 4 characters. */
export const DestinationSchema = z
  .object({
    id: z.string().openapi({ example: 'dst_k3m5q7s2u4w6y8a2c4e6' }),
    organizationId: z.string(),
    label: z.string(),
    type: z.enum(DESTINATION_TYPES),
    description: z.string().nullable(),
    config: z.record(z.string(), z.unknown()).openapi({
      description:
        "The create body's `config`, secrets masked. Secrets the service generated (a webhook signing secret, an e-mail encryption key) appear in full only in the response that generated them.",
    }),
    isDefault: z.boolean(),
    disabled: z.boolean(),
    disabledReason: z.string().nullable(),
    delivery: DeliveryPolicySchema,
    previousSecrets: z
      .array(z.object({ secret: z.string(), expiresAt: z.string() }))
      .optional()
      .openapi({
        description: 'Webhook only: rotated-out secrets (masked) that still sign until expiresAt.',
      }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Destination')
