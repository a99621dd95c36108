/**
 * The one error the client throws. For an answer of the service it carries the HTTP
 * status and the service's own `{ code, message, details, requestId }`; for a problem
 * found before or without an answer (no key for the organization, network failure,
 * timeout) the status is 0 and the code is one of `CLIENT_ERROR_CODES`.
 */
import { ERROR_STATUS, type ErrorCode } from '../lib/errors.ts'

/** Codes of errors raised by the client itself (status 0). */
export const CLIENT_ERROR_CODES = [
  'missing_api_key',
  'missing_organization',
  'missing_admin_token',
  'mixed_organizations',
  'network_error',
  'timeout',
  'unexpected_response',
] as const
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number]

export interface DeliveryServiceErrorInit {
  status: number
  code: ErrorCode | ClientErrorCode | (string & {})
  message: string
  details?: unknown
  requestId?: string | null
  /** Seconds from a `Retry-After` header, when the service sent one. */
  retryAfterSeconds?: number | null
  cause?: unknown
}

export class DeliveryServiceError extends Error {
  /** HTTP status of the service's answer; 0 when the client raised the error itself. */
  readonly status: number
  /** The service's machine code (`validation_error`, `not_found`, …) or a client code. */
  readonly code: DeliveryServiceErrorInit['code']
  /** The service's `details`, such as `{ issues: [{ path, message }] }` for a 400. */
  readonly details: unknown
  /** The service's request id, to quote when asking the operator about a failure. */
  readonly requestId: string | null
  readonly retryAfterSeconds: number | null

  constructor(init: DeliveryServiceErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause })
    this.name = 'DeliveryServiceError'
    this.status = init.status
    this.code = init.code
    this.details = init.details
    this.requestId = init.requestId ?? null
    this.retryAfterSeconds = init.retryAfterSeconds ?? null
  }
}

/** The status the service gives a code, for item errors that arrive inside a 200 (batches). */
export function statusOfCode(code: string): number {
  return (ERROR_STATUS as Record<string, number>)[code] ?? 400
}

/** An error raised by the client itself. */
export function clientError(
  code: ClientErrorCode,
  message: string,
  extra: { details?: unknown; cause?: unknown } = {},
): DeliveryServiceError {
  return new DeliveryServiceError({ status: 0, code, message, ...extra })
}
