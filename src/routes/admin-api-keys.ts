/** Operator routes for tenant API keys: issue (the key is shown once), list, revoke. */
import { createRoute, z } from '@hono/zod-openapi'
import { eq } from 'drizzle-orm'
import { database } from '../db/client'
import { organizations } from '../db/schema'
import { organizationStub } from '../durable-objects/organization-stub'
import { generateApiKey } from '../lib/api-key-format'
import { sha256Hex } from '../lib/crypto'
import { ApiError, fieldError } from '../lib/errors'
import { createRouter } from '../lib/router'
import { errorResponses, OrganizationIdSchema } from '../schemas/common'
import { ApiKeySchema, IssueApiKeySchema, IssuedApiKeySchema } from '../schemas/organization'
import { actorOf, auditStatement } from '../services/audit-log'

const router = createRouter()
const tags = ['admin']
const OrgParams = z.object({ orgId: OrganizationIdSchema })

async function requireOrganization(db: D1Database, id: string): Promise<void> {
  const row = await database(db)
    .select({ id: organizations.id })
    .from(organizations)
    .where(eq(organizations.id, id))
    .get()
  if (!row) throw new ApiError('not_found', `Organization "${id}" does not exist`)
}

router.openapi(
  createRoute({
    method: 'post',
    path: '/v1/admin/organizations/{orgId}/api-keys',
    tags,
    summary: 'Issue an API key',
    description:
      'The response carries the key in `key`; it is never shown again, and only its hash is stored.',
    request: {
      params: OrgParams,
      body: { required: true, content: { 'application/json': { schema: IssueApiKeySchema } } },
    },
    responses: {
      201: {
        description: 'Issued',
        content: { 'application/json': { schema: IssuedApiKeySchema } },
      },
      ...errorResponses(400, 401, 404, 415),
    },
  }),
  async (c) => {
    const { orgId } = c.req.valid('param')
    const input = c.req.valid('json')
    if (input.expiresAt && Date.parse(input.expiresAt) <= Date.now())
      throw fieldError('expiresAt', 'must be in the future')
    await requireOrganization(c.env.DB, orgId)
    const generated = generateApiKey(orgId)
    const record = await organizationStub(c.env, orgId).issueApiKey({
      id: generated.keyId,
      name: input.name,
      keyHash: await sha256Hex(generated.key),
      prefix: generated.prefix,
      expiresAt: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
    })
    const change = {
      organizationId: orgId,
      action: 'api_key.issued',
      resourceType: 'api_key' as const,
      resourceId: record.id,
      after: record,
    }
    await auditStatement(c.env.DB, change, actorOf(c), c.get('requestId')).run()
    return c.json({ ...record, key: generated.key }, 201)
  },
)

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/admin/organizations/{orgId}/api-keys',
    tags,
    summary: 'List API keys (never their secrets)',
    request: { params: OrgParams },
    responses: {
      200: {
        description: 'Keys',
        content: { 'application/json': { schema: z.object({ apiKeys: z.array(ApiKeySchema) }) } },
      },
      ...errorResponses(401, 404),
    },
  }),
  async (c) => {
    const { orgId } = c.req.valid('param')
    await requireOrganization(c.env.DB, orgId)
    return c.json({ apiKeys: await organizationStub(c.env, orgId).listApiKeys() }, 200)
  },
)

router.openapi(
  createRoute({
    method: 'delete',
    path: '/v1/admin/organizations/{orgId}/api-keys/{keyId}',
    tags,
    summary: 'Revoke an API key; it fails from the next request on',
    request: { params: OrgParams.extend({ keyId: z.string().max(64) }) },
    responses: {
      200: { description: 'Revoked', content: { 'application/json': { schema: ApiKeySchema } } },
      ...errorResponses(401, 404),
    },
  }),
  async (c) => {
    const { orgId, keyId } = c.req.valid('param')
    await requireOrganization(c.env.DB, orgId)
    const record = await organizationStub(c.env, orgId).revokeApiKey(keyId)
    if (!record) throw new ApiError('not_found', `API key "${keyId}" does not exist`)
    const change = {
      organizationId: orgId,
      action: 'api_key.revoked',
      resourceType: 'api_key' as const,
      resourceId: keyId,
      after: record,
    }
    await auditStatement(c.env.DB, change, actorOf(c), c.get('requestId')).run()
    return c.json(record, 200)
  },
)

export const adminApiKeyRoutes = router
