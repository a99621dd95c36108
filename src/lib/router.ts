/**
 * Router factory: every route module builds its OpenAPIHono through this so that schema
 * failures become the service's 400 shape, naming each field path.
 */
import { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../env'
import { ApiError, formatPath } from './errors'

interface ZodIssueLike {
  path: ReadonlyArray<PropertyKey>
  message: string
}

/** Turns schema issues (zod) into the validation error, prefixing the request part. */
export function validationError(issues: readonly ZodIssueLike[], target?: string): ApiError {
  const prefix = target === 'query' ? 'query.' : target === 'param' ? 'path.' : ''
  const named = issues.map((issue) => ({
    path: `${prefix}${formatPath(issue.path)}` || '(body)',
    message: issue.message,
  }))
  const summary = named.map((issue) => `${issue.path}: ${issue.message}`).join('; ')
  return new ApiError('validation_error', summary, { details: { issues: named } })
}

export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, _c) => {
      if (!result.success) throw validationError(result.error.issues, result.target)
    },
  })
}
