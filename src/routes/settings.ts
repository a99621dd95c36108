/** The key's organization settings: read, and replace as a whole. */
import { createRoute, z } from '@hono/zod-openapi'
import { and, eq } from 'drizzle-orm'
import { database } from '../db/client'
import { destinations } from '../db/schema'
import { organizationStub } from '../durable-objects/organization-stub'
import { fieldError } from '../lib/errors'
import { createRouter } from '../lib/router'
import { scopedOrganization } from '../middleware/auth'
import { errorResponses, OrganizationIdSchema } from '../schemas/common'
import { type Settings, SettingsSchema } from '../schemas/settings'
import { recordAudit } from '../services/audit-log'

const router = createRouter()
const tags = ['settings']
const Query = z.object({ organizationId: OrganizationIdSchema.optional() })
const PutBody = SettingsSchema.extend({ organizationId: OrganizationIdSchema.optional() }).openapi(
  'PutSettings',
)
const Response = z
  .object({ organizationId: z.string(), settings: SettingsSchema })
  .openapi('OrganizationSettings')

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/settings',
    tags,
    summary: "Read the organization's settings (defaults filled in)",
    request: { query: Query },
    responses: {
      200: { description: 'Settings', content: { 'application/json': { schema: Response } } },
      ...errorResponses(400, 401, 403),
    },
  }),
  async (c) => {
    const organizationId = scopedOrganization(
      c.get('organizationId'),
      c.req.valid('query').organizationId,
    )
    return c.json(
      { organizationId, settings: await organizationStub(c.env, organizationId).getSettings() },
      200,
    )
  },
)

router.openapi(
  createRoute({
    method: 'put',
    path: '/v1/settings',
    tags,
    summary: "Replace the organization's settings",
    description:
      'Fields left out take their defaults. Automatic webhook secret rotation needs `security.alertDestinationId`.',
    request: {
      query: Query,
      body: { required: true, content: { 'application/json': { schema: PutBody } } },
    },
    responses: {
      200: { description: 'Settings', content: { 'application/json': { schema: Response } } },
      ...errorResponses(400, 401, 403, 415),
    },
  }),
  async (c) => {
    const { organizationId: inBody, ...settings } = c.req.valid('json')
    const organizationId = scopedOrganization(
      c.get('organizationId'),
      inBody ?? c.req.valid('query').organizationId,
    )
    await checkAlertDestination(c.env.DB, organizationId, settings)
    const stub = organizationStub(c.env, organizationId)
    const before = await stub.getSettings()
    const after = await stub.replaceSettings(settings)
    await recordAudit(c, {
      organizationId,
      action: 'settings.replaced',
      resourceType: 'settings',
      resourceId: organizationId,
      before,
      after,
    })
    return c.json({ organizationId, settings: after }, 200)
  },
)

/** Rotation sends the new secret as an operational event, so it needs somewhere to send it. */
async function checkAlertDestination(
  db: D1Database,
  organizationId: string,
  settings: Settings,
): Promise<void> {
  const target = settings.security.alertDestinationId
  if (settings.security.webhookSecrets.rotationDays > 0 && !target) {
    throw fieldError(
      'security.alertDestinationId',
      'is required when security.webhookSecrets.rotationDays is above 0',
    )
  }
  if (!target) return
  const row = await database(db)
    .select({ type: destinations.type })
    .from(destinations)
    .where(and(eq(destinations.organizationId, organizationId), eq(destinations.id, target)))
    .get()
  if (!row)
    throw fieldError('security.alertDestinationId', `destination "${target}" does not exist`)
  if (row.type !== 'webhook' && row.type !== 'email') {
    throw fieldError('security.alertDestinationId', 'must be a webhook or email destination')
  }
}

export const settingsRoutes = router
