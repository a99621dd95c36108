/** The one error handler: known errors keep their code, anything else is logged and a generic 500. */
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { AppEnv } from '../env'
import { ApiError, errorBody } from './errors'
import { log } from './logger'

export function handleError(error: Error, c: Context<AppEnv>): Response {
  const requestId = c.get('requestId') ?? 'unknown'
  const known = toApiError(error)
  if (known) {
    return c.json(errorBody(known, requestId), known.status, known.headers)
  }
  log.error({
    event: 'unhandled_error',
    requestId,
    organizationId: c.get('organizationId'),
    route: c.req.path,
    error: error.message,
    stack: error.stack,
  })
  const internal = new ApiError(
    'internal_error',
    'An unexpected error occurred; quote the requestId when reporting it',
  )
  return c.json(errorBody(internal, requestId), 500)
}

function toApiError(error: Error): ApiError | null {
  if (error instanceof ApiError) return error
  // RPC from a Durable Object loses the class but keeps name and message.
  if (error.name === 'ApiError' && 'code' in error) {
    const remote = error as Error & { code: ApiError['code']; details?: unknown }
    return new ApiError(remote.code, remote.message, { details: remote.details })
  }
  if (error instanceof HTTPException) {
    if (error.status === 400)
      return new ApiError('invalid_json', error.message || 'Malformed request body')
    if (error.status === 413) return new ApiError('payload_too_large', 'Request body too large')
    if (error.status === 415)
      return new ApiError('unsupported_media_type', 'Content-Type must be application/json')
  }
  return null
}
