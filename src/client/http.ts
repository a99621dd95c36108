/**
 * The client's transport: one JSON request to the service with a bearer token, turned
 * into the parsed body or a `DeliveryServiceError`. Uses only `fetch`, so it runs the same
 * on Node and in Workers; a custom `fetch` (a service binding, a test harness) can be given.
 */
import { clientError, DeliveryServiceError } from './errors.ts'

/** The subset of `fetch` the client needs. */
export type FetchLike = (input: Request) => Promise<Response>

export interface TransportOptions {
  baseUrl: string
  fetch?: FetchLike | undefined
  /** Milliseconds before a request is abandoned with code `timeout`. Default 30000. */
  timeoutMs?: number | undefined
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  token: string
  /** Query parameters; undefined and null values are left out. */
  query?: object | undefined
  body?: unknown
  headers?: Record<string, string> | undefined
  /** `text` for routes that answer plain text (Prometheus). Default `json`. */
  as?: 'json' | 'text'
}

export interface Answer<T> {
  status: number
  headers: Headers
  body: T
}

export interface Transport {
  send<T>(spec: RequestSpec): Promise<Answer<T>>
}

const DEFAULT_TIMEOUT_MS = 30_000

function urlFor(baseUrl: string, path: string, query: RequestSpec['query']): string {
  const url = new URL(path, `${baseUrl.replace(/\/+$/, '')}/`)
  for (const [name, value] of Object.entries(query ?? {}) as Array<[string, unknown]>) {
    if (value !== undefined && value !== null) url.searchParams.set(name, String(value))
  }
  return url.toString()
}

function parseJson(text: string): unknown {
  if (text === '') return null
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

interface WireError {
  error: { code: string; message: string; details?: unknown; requestId?: string }
}

function isWireError(value: unknown): value is WireError {
  const error = (value as WireError | null)?.error
  return typeof error?.code === 'string' && typeof error.message === 'string'
}

function retryAfter(headers: Headers): number | null {
  const value = headers.get('retry-after')
  return value !== null && /^\d+$/.test(value) ? Number(value) : null
}

function failure(response: Response, text: string): DeliveryServiceError {
  const parsed = parseJson(text)
  const requestId = response.headers.get('x-request-id')
  if (isWireError(parsed)) {
    return new DeliveryServiceError({
      status: response.status,
      code: parsed.error.code,
      message: parsed.error.message,
      details: parsed.error.details,
      requestId: parsed.error.requestId ?? requestId,
      retryAfterSeconds: retryAfter(response.headers),
    })
  }
  return new DeliveryServiceError({
    status: response.status,
    code: 'unexpected_response',
    message: `HTTP ${response.status} without the service's error body: ${text.slice(0, 200)}`,
    requestId,
  })
}

export function createTransport(options: TransportOptions): Transport {
  const fetcher: FetchLike = options.fetch ?? ((request) => fetch(request))
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS

  return {
    async send<T>(spec: RequestSpec): Promise<Answer<T>> {
      const headers = new Headers(spec.headers)
      headers.set('authorization', `Bearer ${spec.token}`)
      headers.set('accept', spec.as === 'text' ? 'text/plain' : 'application/json')
      let body: string | undefined
      if (spec.body !== undefined) {
        body = JSON.stringify(spec.body)
        headers.set('content-type', 'application/json')
      }
      const request = new Request(urlFor(options.baseUrl, spec.path, spec.query), {
        method: spec.method,
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      })

      let response: Response
      let text: string
      try {
        response = await fetcher(request)
        text = await response.text()
      } catch (error) {
        const name = (error as Error | null)?.name
        if (name === 'TimeoutError' || name === 'AbortError')
          throw clientError(
            'timeout',
            `${spec.method} ${spec.path}: no answer in ${timeoutMs} ms`,
            {
              cause: error,
            },
          )
        throw clientError(
          'network_error',
          `${spec.method} ${spec.path}: ${(error as Error | null)?.message ?? String(error)}`,
          { cause: error },
        )
      }

      if (!response.ok) throw failure(response, text)
      if (spec.as === 'text')
        return { status: response.status, headers: response.headers, body: text as T }
      const parsed = parseJson(text)
      if (parsed === undefined)
        throw new DeliveryServiceError({
          status: response.status,
          code: 'unexpected_response',
          message: `${spec.method} ${spec.path}: the answer is not JSON`,
          requestId: response.headers.get('x-request-id'),
        })
      return { status: response.status, headers: response.headers, body: parsed as T }
    },
  }
}
