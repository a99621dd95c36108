/**
 * The HTTP front door: middleware in the order a request meets it, then every route
 * module from `routes/index.ts`, then the OpenAPI document built from their schemas.
 */
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from './env'
import { handleError } from './lib/error-handler'
import { ApiError } from './lib/errors'
import { createRouter } from './lib/router'
import { requireAdmin, requireApiKey } from './middleware/auth'
import { jsonBody, MIB } from './middleware/json-body'
import { requestContext } from './middleware/request-context'
import { routeModules } from './routes'

/** Body limits: deliveries carry payloads up to 10 MiB; batches up to 10 MiB in all. */
const DELIVERY_BODY_LIMIT = 10 * MIB + 64 * 1024
const DEFAULT_BODY_LIMIT = 1 * MIB

export function createApp(): OpenAPIHono<AppEnv> {
  const app = createRouter()

  app.use('*', requestContext)
  app.use('/v1/*', async (c, next) => {
    const path = c.req.path
    if (path.startsWith('/v1/admin/')) return requireAdmin(c, next)
    // The download token is the credential of a GET; revoking a link needs the tenant key.
    if (path.startsWith('/v1/downloads/') && c.req.method === 'GET') return next()
    return requireApiKey(c, next)
  })
  app.use('/v1/*', (c, next) => {
    const limit = c.req.path.startsWith('/v1/deliveries') ? DELIVERY_BODY_LIMIT : DEFAULT_BODY_LIMIT
    return jsonBody(limit)(c, next)
  })

  for (const module of routeModules) app.route('/', module)

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Audit event delivery service',
      version: '1.0.0',
      description:
        'Accepts audit events over HTTPS and delivers each, reliably and provably, to the destinations an organization configured: signed webhooks, e-mail, object storage and expiring download links.',
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: "A tenant API key (`dsk_…`), or the operator's ADMIN_TOKEN on /v1/admin routes.",
  })

  app.notFound((c) => {
    throw new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}`)
  })
  app.onError(handleError)
  return app
}
