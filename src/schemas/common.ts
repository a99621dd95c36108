/** Schemas shared by several routes: ids, pagination, the error body. */
import { z } from '@hono/zod-openapi'

/** Organization ids are slugs the operator chooses, such as `hospital-001`. */
export const OrganizationIdSchema = z
  .string()
  .min(3)
  .max(64)
  .regex(
    /^[a-z0-9]+(?:-[a-z0-9]+)*$/,
    'must be a slug: lowercase letters, digits and single hyphens',
  )
  .openapi({ example: 'hospital-001' })

export const TimestampSchema = z.iso
  .datetime({ offset: true })
  .openapi({ example: '2026-12-03T12:00:00.000Z' })

export const PaginationQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(200)
    .default(50)
    .openapi({ description: 'Page size, 1 to 200.' }),
  cursor: z
    .string()
    .max(512)
    .optional()
    .openapi({ description: 'The `nextCursor` of the previous page.' }),
})

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'validation_error' }),
      message: z.string(),
      details: z.unknown().optional(),
      requestId: z.string(),
    }),
  })
  .openapi('Error')

/** Response entries for the error statuses a route can answer. */
export function errorResponses(
  ...statuses: Array<400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 422 | 429>
) {
  const descriptions: Record<number, string> = {
    400: 'Invalid request; `details.issues` names each field',
    401: 'Missing, unknown, expired or revoked credential',
    403: 'The credential may not act on this organization',
    404: "Not found (or another organization's)",
    409: 'Conflict with the current state',
    410: 'Gone',
    413: 'Body too large',
    415: 'Content-Type is not application/json',
    422: 'Refers to something unusable',
    429: 'Rate limited; see Retry-After',
  }
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: descriptions[status] ?? 'Error',
        content: { 'application/json': { schema: ErrorBodySchema } },
      },
    ]),
  ) as Record<
    number,
    { description: string; content: { 'application/json': { schema: typeof ErrorBodySchema } } }
  >
}

/** The optional `organizationId` query parameter; when given it must be the key's organization. */
export const OrganizationQuerySchema = z.object({
  organizationId: OrganizationIdSchema.optional().openapi({
    description: "Optional; when given it must be the API key's organization.",
  }),
})
