/**
 * Reading a storage object's age from its key. Storage handlers write each delivery at
 * `<path template filled from the accept time>/<deliveryId>.json`, so a key names the
 * UTC year, month, day or hour the delivery was accepted in, as precisely as the template
 * does. An object is past retention only when that whole period ended before the cutoff;
 * keys that do not have the shape the template produces (objects someone else put in the
 * bucket) never match, so they are never touched.
 */

const DELIVERY_FILE = 'dlv_[a-z2-7]{20}\\.json'
const DATE_PARTS = ['year', 'month', 'day', 'hour'] as const

export interface KeyMatcher {
  /** The literal start of every key the template produces: what to list. */
  prefix: string
  /** Whether listing order under `prefix` is accept-time order (date parts lead, in order). */
  dateOrdered: boolean
  /** Whether keys carry a date at all; without one, callers fall back to the upload time. */
  dated: boolean
  /** End (exclusive, ms) of the period a key names; undefined when the key is not the template's; null when it names none. */
  periodEnd(key: string): number | null | undefined
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** A matcher for the keys that `template` (already trimmed of outer slashes) gives an organization. */
export function keyMatcher(template: string, organizationId: string): KeyMatcher {
  const tokens = template.split(/(\{[A-Za-z]+\})/).filter((token) => token !== '')
  let prefix = ''
  let prefixDone = false
  let pattern = '^'
  const order: string[] = []
  for (const token of tokens) {
    const name = /^\{([A-Za-z]+)\}$/.exec(token)?.[1]
    const literal = name === undefined ? token : name === 'organizationId' ? organizationId : null
    if (literal !== null) {
      pattern += escapeRegExp(literal)
      if (!prefixDone) prefix += literal
      continue
    }
    prefixDone = true
    order.push(name as string)
    if (name === 'year') pattern += '(?<year>\\d{4})'
    else if (name === 'month' || name === 'day' || name === 'hour') pattern += `(?<${name}>\\d{2})`
    else if (name === 'deliveryId') pattern += 'dlv_[a-z2-7]{20}'
    else pattern += '[^/]+'
  }
  pattern += `${template === '' ? '' : '/'}${DELIVERY_FILE}$`
  const regex = new RegExp(pattern)
  // Zero-padded date parts that come first, in order, and all of them, sort like time.
  const dates = order.filter((name) => (DATE_PARTS as readonly string[]).includes(name))
  const dateOrdered =
    dates.length > 0 &&
    dates.every((name, index) => order[index] === name && DATE_PARTS[index] === name)
  return {
    prefix,
    dateOrdered,
    dated: order.includes('year'),
    periodEnd(key) {
      const match = regex.exec(key)
      if (!match) return undefined
      return periodEnd(match.groups ?? {})
    },
  }
}

/** The end of the most precise period the parts name, counting down from the year. */
function periodEnd(parts: Record<string, string | undefined>): number | null {
  if (parts.year === undefined) return null
  const year = Number(parts.year)
  if (parts.month === undefined) return Date.UTC(year + 1, 0, 1)
  const month = Number(parts.month) - 1
  if (parts.day === undefined) return Date.UTC(year, month + 1, 1)
  const day = Number(parts.day)
  if (parts.hour === undefined) return Date.UTC(year, month, day + 1)
  return Date.UTC(year, month, day, Number(parts.hour) + 1)
}
