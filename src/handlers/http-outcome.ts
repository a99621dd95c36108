/**
 * How an HTTP answer or a failed `fetch` becomes an outcome, shared by the webhook, S3 and
 * e-mail provider handlers: 2xx delivered; redirects (never followed), 408, 429, 5xx,
 * network errors and timeouts retryable; any other 4xx permanent.
 */
import type { DeliveryReference, Outcome } from './types'

/** At most this much of a response body goes into an outcome message. */
const DETAIL_LIMIT = 300

/**
 * Parses `Retry-After` (delay seconds or an HTTP date) into milliseconds from `now`.
 * Answers undefined when the header is absent or unreadable; a past date is 0.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  // An HTTP date names its weekday and month; bare numbers like "-5" are not dates.
  if (!/^[A-Za-z]{3}/.test(trimmed)) return undefined
  const at = Date.parse(trimmed)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - now)
}

export interface ClassifyOptions {
  /** Who answered, for messages: "Receiver", "S3", "SES". */
  peer: string
  /** A 410 means the destination is gone for good (webhooks): disable it. */
  goneDisables?: boolean
  /** What a delivered outcome carries besides the status. */
  reference?: DeliveryReference
  /** A short excerpt of the response body (provider error text) for the message. */
  detail?: string
}

/** The outcome of one HTTP answer. The caller reads (or cancels) the body itself. */
export function classifyResponse(response: Response, options: ClassifyOptions): Outcome {
  const status = response.status
  if (status >= 200 && status < 300) {
    return { kind: 'delivered', reference: { ...options.reference, httpStatus: status } }
  }
  const detail = options.detail ? `: ${options.detail.slice(0, DETAIL_LIMIT)}` : ''
  if (status >= 300 && status < 400) {
    const location = response.headers.get('location')
    return {
      kind: 'retryable',
      code: 'redirect',
      message: `${options.peer} answered ${status} redirecting to ${location ?? '(no Location)'}; redirects are not followed`,
      httpStatus: status,
    }
  }
  const message = `${options.peer} answered ${status}${detail}`
  if (status === 410 && options.goneDisables) {
    return {
      kind: 'permanent',
      code: 'http_410',
      message,
      httpStatus: status,
      disableDestination: true,
    }
  }
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'))
    return {
      kind: 'retryable',
      code: `http_${status}`,
      message,
      httpStatus: status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    }
  }
  return { kind: 'permanent', code: `http_${status}`, message, httpStatus: status }
}

/** The outcome of a `fetch` that threw: a timeout or a network failure, both retryable. */
export function classifyFetchError(error: unknown, peer: string, timeoutMs: number): Outcome {
  const name = error instanceof Error ? error.name : ''
  if (name === 'TimeoutError' || name === 'AbortError') {
    return {
      kind: 'retryable',
      code: 'timeout',
      message: `${peer} did not answer within ${timeoutMs} ms`,
    }
  }
  const reason = error instanceof Error ? error.message : String(error)
  return {
    kind: 'retryable',
    code: 'network_error',
    message: `${peer} could not be reached: ${reason}`.slice(0, DETAIL_LIMIT),
  }
}

/** Reads at most a short excerpt of a response body, for error messages. */
export async function responseExcerpt(response: Response): Promise<string> {
  try {
    const text = await response.text()
    return text.replace(/\s+/g, ' ').trim().slice(0, DETAIL_LIMIT)
  } catch {
    return ''
  }
}

/** An unwanted response body is read rather than cancelled up to this many bytes... */
const DRAIN_LIMIT = 4096
/** ...and for at most this long. */
const DRAIN_WAIT_MS = 100

/**
 * Disposes of a response body the handler has no use for. A short body that ends promptly
 * is read to its end, which costs less than cancelling it and leaves the connection fit
 * for the next request; a longer one, or one still open after `DRAIN_WAIT_MS`, is
 * cancelled, so a receiver that keeps its answer open cannot hold the attempt until its
 * timeout.
 */
export async function discardBody(response: Response): Promise<void> {
  if (!response.body) return
  const reader = response.body.getReader()
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), DRAIN_WAIT_MS)
  })
  try {
    if ((await Promise.race([readShortBody(reader), late])) !== 'ended') await reader.cancel()
  } catch {
    // A body that breaks off is as good as discarded.
  } finally {
    clearTimeout(timer)
  }
}

/** Reads to the end unless the body passes `DRAIN_LIMIT` bytes first. */
async function readShortBody(reader: ReadableStreamDefaultReader<Uint8Array>) {
  for (let read = 0; read <= DRAIN_LIMIT; ) {
    const chunk = await reader.read()
    if (chunk.done) return 'ended' as const
    read += chunk.value.byteLength
  }
  return 'long' as const
}

/** `fetch` with the handler's timeout, turning a throw into an outcome value. */
export async function fetchWithTimeout(
  input: string | Request,
  init: RequestInit,
  timeoutMs: number,
  peer: string,
): Promise<{ response: Response } | { outcome: Outcome }> {
  try {
    const response = await fetch(input, {
      ...init,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
    return { response }
  } catch (error) {
    return { outcome: classifyFetchError(error, peer, timeoutMs) }
  }
}
