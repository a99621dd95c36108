/**
 * Reads a JSON request body once, before validation: 415 unless the Content-Type is JSON,
 * 413 past the route's size limit, 400 `invalid_json` when it does not parse. The raw text
 * stays available (`rawBody`) for idempotency hashing and byte-exact payload passthrough.
 */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env'
import { ApiError } from '../lib/errors'
import { jsonDepth, MAX_JSON_DEPTH } from '../lib/json-depth'

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

export const MIB = 1024 * 1024

export function jsonBody(maxBytes: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!['POST', 'PUT', 'PATCH'].includes(c.req.method)) return next()
    const declared = c.req.header('content-length')
    const type = c.req.header('content-type') ?? ''
    const empty = declared === '0' || (declared === undefined && c.req.raw.body === null)
    if (empty && !type) {
      c.set('rawBody', '')
      return next()
    }
    if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
      throw new ApiError(
        'unsupported_media_type',
        `Content-Type must be application/json, got "${type || 'none'}"`,
      )
    }
    if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(maxBytes)
    const bytes = await c.req.arrayBuffer()
    if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes)
    let text: string
    try {
      // Bytes that are not UTF-8 would otherwise be replaced silently and change the payload.
      text = strictUtf8.decode(bytes)
      JSON.parse(text)
    } catch (error) {
      throw new ApiError(
        'invalid_json',
        `Request body is not valid JSON in UTF-8: ${(error as Error).message}`,
      )
    }
    if (jsonDepth(text) > MAX_JSON_DEPTH) {
      throw new ApiError(
        'invalid_json',
        `Request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`,
      )
    }
    c.set('rawBody', text)
    // The schema validator reads the body as text again: hand it this one instead of a
    // second decoding of the bytes (Hono keeps pending reads in `bodyCache`).
    const cache = c.req.bodyCache as { text?: Promise<string> }
    cache.text = Promise.resolve(text)
    return next()
  }
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError('payload_too_large', `Request body exceeds ${maxBytes} bytes`, {
    details: { limitBytes: maxBytes },
  })
}
