/**
 * The service's one error shape: `{ error: { code, message, details?, requestId } }`.
 * Codes form a closed list; each maps to exactly one HTTP status here and nowhere else.
 */
export const ERROR_STATUS = {
  validation_error: 400,
  invalid_json: 400,
  idempotency_key_mismatch: 400,
  unauthorized: 401,
  forbidden: 403,
  organization_mismatch: 403,
  organization_disabled: 403,
  not_found: 404,
  method_not_allowed: 405,
  organization_exists: 409,
  label_taken: 409,
  idempotency_key_reused: 409,
  nothing_to_retry: 409,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  destination_not_found: 422,
  destination_disabled: 422,
  unprocessable: 422,
  rate_limited: 429,
  internal_error: 500,
  not_ready: 503,
} as const

export type ErrorCode = keyof typeof ERROR_STATUS

/** One problem with one field of the request; `path` uses dots and brackets (`config.webhook.url`). */
export interface FieldIssue {
  path: string
  message: string
}

/** An error the client is meant to see: its code fixes the status, its message names the field. */
export class ApiError extends Error {
  readonly code: ErrorCode
  readonly details: unknown
  readonly headers: Record<string, string>

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.details = options.details
    this.headers = options.headers ?? {}
  }

  get status(): (typeof ERROR_STATUS)[ErrorCode] {
    return ERROR_STATUS[this.code]
  }
}

/** A 400 for a single field, the common case of hand-written checks. */
export function fieldError(path: string, message: string): ApiError {
  return new ApiError('validation_error', `${path}: ${message}`, {
    details: { issues: [{ path, message }] },
  })
}

/** Formats zod-style issue paths as `a.b[0].c`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else out += out === '' ? String(segment) : `.${String(segment)}`
  }
  return out
}

/** The JSON body sent for an error. */
export function errorBody(error: ApiError, requestId: string) {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
      requestId,
    },
  }
}
