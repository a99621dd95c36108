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
  const readString = (): string => {
    const start = index
    index++
    let escaped = false
    for (;;) {
      const code = text.charCodeAt(index)
      if (code === 0x22) break
      if (code === 0x5c) {
        escaped = true
        index += 2
      } else index++
    }
    index++
    const raw = text.slice(start, index)
    return escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1)
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

  const visit = (path: (string | number)[]) => {
    skipWhitespace()
    const start = index
    const selected = path.length > 0 && select(path)
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
          if (seen.has(key) && !selected) forget([...path, key])
          seen.add(key)
          skipWhitespace()
          index++ // the colon
          if (selected) skipValue()
          else visit([...path, key])
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
          if (selected) skipValue()
          else visit([...path, item])
          skipWhitespace()
          if (text[index++] === ']') break
        }
      }
    } else if (char === '"') readString()
    else skipScalar()
    if (selected) spans.set(pathKey(path), { start, end: index })
  }

  // Skipping reuses visit with a selector that never matches below the selected value.
  const skipValue = () => {
    const outer = select
    select = () => false
    visit(['\u0000'])
    select = outer
  }

  visit([])
  return spans
}

/** The map key `findSpans` uses for a path. */
export function pathKey(path: JsonPath): string {
  return JSON.stringify(path)
}
