/**
 * Finds where values sit in a JSON text, so the service can pass a payload's own text
 * through unaltered: `JSON.parse` would round 20-digit integers and reorder integer-like
 * keys. The text must already be valid JSON (the body middleware parsed it once).
 */

/** A path into a JSON document: object keys and array indexes. */
export type JsonPath = readonly (string | number)[]

/** Start (inclusive) and end (exclusive) offsets of a value in the text. */
export interface Span {
  start: number
  end: number
}

/**
 * Returns the span of every value whose path `select` accepts. For duplicate keys the
 * last occurrence wins, as with `JSON.parse`. Values inside a selected value are not
 * visited further.
 */
export function findSpans(text: string, select: (path: JsonPath) => boolean): Map<string, Span> {
  const spans = new Map<string, Span>()
  let index = 0

  const skipWhitespace = () => {
    while (index < text.length) {
      const code = text.charCodeAt(index)
      if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return
      index++
    }
  }

  // One pass over the characters: a later backslash must not be searched for again from
  // every string, or scanning turns quadratic in the size of the text.
  const skipString = () => {
    index++
    for (;;) {
      const code = text.charCodeAt(index)
      if (code === 0x22) break
      index += code === 0x5c ? 2 : 1
    }
    index++
  }

  const readString = (): string => {
    const start = index
    skipString()
    const raw = text.slice(start, index)
    return raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1)
  }

  // A repeated key replaces the earlier value, as with JSON.parse, including what was found inside it.
  const forget = (path: (string | number)[]) => {
    const prefix = pathKey(path).slice(0, -1)
    for (const key of spans.keys()) {
      if (key === `${prefix}]` || key.startsWith(`${prefix},`)) spans.delete(key)
    }
  }

  const skipScalar = () => {
    while (index < text.length && !',]} \n\r\t'.includes(text[index] as string)) index++
  }

  // A selected value is only measured, in one scan that follows strings and nesting depth:
  // selected payloads are most of a batch body, and building paths inside them cost the most.
  const skipValue = () => {
    const first = text.charCodeAt(index)
    if (first === 0x22) return skipString()
    if (first !== 0x7b && first !== 0x5b) return skipScalar()
    let depth = 0
    for (;;) {
      const code = text.charCodeAt(index)
      if (code === 0x22) {
        skipString()
        continue
      }
      index++
      if (code === 0x7b || code === 0x5b) depth++
      else if ((code === 0x7d || code === 0x5d) && --depth === 0) return
    }
  }

  const visit = (path: (string | number)[]) => {
    skipWhitespace()
    const start = index
    if (path.length > 0 && select(path)) {
      skipValue()
      spans.set(pathKey(path), { start, end: index })
      return
    }
    const char = text[index]
    if (char === '{') {
      index++
      skipWhitespace()
      if (text[index] === '}') index++
      else {
        const seen = new Set<string>()
        for (;;) {
          skipWhitespace()
          const key = readString()
          if (seen.has(key)) forget([...path, key])
          seen.add(key)
          skipWhitespace()
          index++ // the colon
          visit([...path, key])
          skipWhitespace()
          if (text[index++] === '}') break
        }
      }
    } else if (char === '[') {
      index++
      skipWhitespace()
      if (text[index] === ']') index++
      else {
        for (let item = 0; ; item++) {
          visit([...path, item])
          skipWhitespace()
          if (text[index++] === ']') break
        }
      }
    } else if (char === '"') skipString()
    else skipScalar()
  }

  visit([])
  return spans
}

/** The map key `findSpans` uses for a path. */
export function pathKey(path: JsonPath): string {
  return JSON.stringify(path)
}
