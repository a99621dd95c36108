/**
 * Download links. `GET /v1/downloads/{token}` is public: the token is the credential. It
 * serves the delivered envelope and counts the download with one conditional UPDATE, so
 * concurrent requests can never exceed the maximum. After expiry, the maximum count or
 * revocation it answers 410; an unknown or altered token answers 404, like any id that
 * does not exist. `DELETE` revokes a link and needs a key of the link's organization.
 */
import { createRoute, z } from '@hono/zod-openapi'
import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm'
import { database } from '../db/client'
import { downloads } from '../db/schema'
import { openText } from '../lib/at-rest'
import { sha256Hex } from '../lib/crypto'
import { ApiError } from '../lib/errors'
import { log } from '../lib/logger'
import { createRouter } from '../lib/router'
import { errorResponses } from '../schemas/common'
import { recordAudit } from '../services/audit-log'

const router = createRouter()
const tags = ['downloads']

/** Tokens are 32 random bytes in base64url; anything else cannot be one. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/

const TokenParams = z.object({
  token: z
    .string()
    .max(256)
    .openapi({ param: { name: 'token', in: 'path' }, description: 'The link token.' }),
})

const RevokedSchema = z
  .object({
    id: z.string(),
    deliveryId: z.string(),
    destinationId: z.string(),
    expiresAt: z.string(),
    maxDownloads: z.number().int(),
    downloadCount: z.number().int(),
    revokedAt: z.string(),
  })
  .openapi('RevokedDownload')

function unknownLink(): ApiError {
  return new ApiError('not_found', 'Download link not found')
}

/** The token's row, or null for anything that is not a live token's hash. */
async function findByToken(db: D1Database, token: string) {
  if (!TOKEN_PATTERN.test(token)) return null
  const tokenHash = await sha256Hex(token)
  const row = await database(db)
    .select()
    .from(downloads)
    .where(eq(downloads.tokenHash, tokenHash))
    .get()
  return row ?? null
}

// Declared for the OpenAPI document, served by a plain route: the body is the stored
// envelope text, which a typed JSON response would have to re-serialize.
router.openAPIRegistry.registerPath(
  createRoute({
    method: 'get',
    path: '/v1/downloads/{token}',
    tags,
    summary: 'Download a delivered event (the token is the credential)',
    security: [],
    request: { params: TokenParams },
    responses: {
      200: {
        description: 'The delivery envelope, as every destination receives it',
        content: { 'application/json': { schema: z.object({}).passthrough().openapi('Envelope') } },
      },
      ...errorResponses(404, 410),
    },
  }),
)

router.get('/v1/downloads/:token', async (c) => {
  const token = c.req.param('token')
  if (!TOKEN_PATTERN.test(token)) throw unknownLink()
  const tokenHash = await sha256Hex(token)
  const now = new Date().toISOString()
  // One statement decides and counts, so two concurrent requests cannot both take the last download.
  const counted = await database(c.env.DB)
    .update(downloads)
    .set({ downloadCount: sql`${downloads.downloadCount} + 1` })
    .where(
      and(
        eq(downloads.tokenHash, tokenHash),
        isNull(downloads.revokedAt),
        gt(downloads.expiresAt, now),
        lt(downloads.downloadCount, downloads.maxDownloads),
      ),
    )
    .returning()
    .get()
  if (!counted) {
    const row = await findByToken(c.env.DB, token)
    if (!row) throw unknownLink()
    if (row.revokedAt) throw new ApiError('gone', 'This download link was revoked')
    if (row.expiresAt <= now)
      throw new ApiError('gone', `This download link expired at ${row.expiresAt}`)
    throw new ApiError(
      'gone',
      `This download link reached its maximum of ${row.maxDownloads} downloads`,
    )
  }

  const object = await c.env.ARTIFACTS.get(counted.objectKey)
  if (!object) throw new ApiError('gone', 'The download is no longer stored')
  const envelope = await openText(c.env.ENCRYPTION_KEYS, await object.text())
  log.info({
    event: 'download_served',
    requestId: c.get('requestId'),
    organizationId: counted.organizationId,
    deliveryId: counted.deliveryId,
    destinationId: counted.destinationId,
    downloadCount: counted.downloadCount,
  })
  // The envelope's own text, never re-serialized: big integers and key order survive.
  return c.body(envelope, 200, {
    'content-type': 'application/json',
    'content-disposition': `attachment; filename="${counted.deliveryId}.json"`,
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-downloads-remaining': String(counted.maxDownloads - counted.downloadCount),
  })
})

router.openapi(
  createRoute({
    method: 'delete',
    path: '/v1/downloads/{token}',
    tags,
    summary: 'Revoke a download link',
    description:
      "Needs a key of the link's organization; another organization's link answers 404. The stored envelope is deleted; revoking twice answers the first revocation.",
    request: { params: TokenParams },
    responses: {
      200: { description: 'Revoked', content: { 'application/json': { schema: RevokedSchema } } },
      ...errorResponses(401, 404),
    },
  }),
  async (c) => {
    const organizationId = c.get('organizationId')
    const row = await findByToken(c.env.DB, c.req.valid('param').token)
    if (!row || row.organizationId !== organizationId) throw unknownLink()

    const revokedAt = row.revokedAt ?? new Date().toISOString()
    if (!row.revokedAt) {
      await database(c.env.DB)
        .update(downloads)
        .set({ revokedAt })
        .where(and(eq(downloads.id, row.id), isNull(downloads.revokedAt)))
        .run()
      await c.env.ARTIFACTS.delete(row.objectKey)
      await recordAudit(c, {
        organizationId,
        action: 'download.revoked',
        resourceType: 'download',
        resourceId: row.id,
        after: { deliveryId: row.deliveryId, destinationId: row.destinationId, revokedAt },
      })
    }
    return c.json(
      {
        id: row.id,
        deliveryId: row.deliveryId,
        destinationId: row.destinationId,
        expiresAt: row.expiresAt,
        maxDownloads: row.maxDownloads,
        downloadCount: row.downloadCount,
        revokedAt,
      },
      200,
    )
  },
)

export const downloadRoutes = router
