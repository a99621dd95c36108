/** Organizations and API keys, as the operator manages them. */
import { z } from '@hono/zod-openapi'
import { OrganizationIdSchema, TimestampSchema } from './common'

export const OrganizationSchema = z
  .object({
    id: OrganizationIdSchema,
    name: z.string(),
    status: z.enum(['active', 'disabled']),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Organization')

export const CreateOrganizationSchema = z
  .strictObject({
    id: OrganizationIdSchema,
    name: z.string().trim().min(1).max(200),
  })
  .openapi('CreateOrganization')

export const UpdateOrganizationSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    status: z.enum(['active', 'disabled']).optional(),
  })
  .openapi('UpdateOrganization')

export const ApiKeySchema = z
  .object({
    id: z.string().openapi({ example: 'key_q3k5m2x7a4b6c8d2e4f6' }),
    name: z.string(),
    prefix: z
      .string()
      .openapi({ description: 'The first characters of the key, to recognise it.' }),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .openapi('ApiKey')

export const IssuedApiKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({ description: 'The secret key. Shown only in this response.' }),
}).openapi('IssuedApiKey')

export const IssueApiKeySchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    expiresAt: TimestampSchema.optional().openapi({
      description: 'When the key stops working (ISO 8601). Must be in the future.',
    }),
  })
  .openapi('IssueApiKey')
