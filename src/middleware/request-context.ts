/**
 * Gives every request an id (echoed in `X-Request-Id`) and writes one structured log line
 * when it ends: requestId, organizationId, route, status, durationMs. Bodies never appear.
 */
import type { MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import type { AppEnv } from '../env'
import { newId } from '../lib/ids'
import { log } from '../lib/logger'

export const REQUEST_ID_HEADER = 'X-Request-Id'

export const requestContext: MiddlewareHandler<AppEnv> = async (c, next) => {
  const started = Date.now()
  const incoming = c.req.header(REQUEST_ID_HEADER)
  const requestId =
    incoming && /^[A-Za-z0-9_.-]{1,64}$/.test(incoming) ? incoming : newId('request')
  c.set('requestId', requestId)
  await next()
  c.header(REQUEST_ID_HEADER, requestId)
  log.info({
    event: 'request',
    requestId,
    organizationId: c.get('organizationId'),
    method: c.req.method,
    route: routePath(c, -1),
    status: c.res.status,
    durationMs: Date.now() - started,
  })
}
