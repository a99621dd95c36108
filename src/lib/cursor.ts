/** Opaque pagination cursors: the sort key of the last row, base64url-encoded JSON. */
import { fromBase64Url, toBase64Url, utf8 } from './encoding'
import { fieldError } from './errors'

export function encodeCursor(values: readonly (string | number)[]): string {
  return toBase64Url(utf8.encode(JSON.stringify(values)))
}

/** Decodes a cursor made by `encodeCursor` with `arity` values; 400 naming `cursor` otherwise. */
export function decodeCursor(
  cursor: string | undefined,
  arity: number,
): (string | number)[] | null {
  if (cursor === undefined) return null
  try {
    const values = JSON.parse(utf8.decode(fromBase64Url(cursor))) as unknown
    if (
      Array.isArray(values) &&
      values.length === arity &&
      values.every((v) => typeof v === 'string' || typeof v === 'number')
    ) {
      return values
    }
  } catch {
    // Falls through to the validation error below.
  }
  throw fieldError('query.cursor', 'is not a cursor this service issued')
}
