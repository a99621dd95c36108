/**
 * Rules for host names (as opposed to literal addresses) that a destination may name.
 * Names are judged as written, since a Worker cannot resolve them before it fetches.
 */
import { type AddressClass, classifyAddress, parseAddress } from './ip-ranges'

/** Suffixes reserved for private networks and their resolvers (RFC 6761, 6762, 8375; cloud VPC DNS). */
const PRIVATE_SUFFIXES = ['internal', 'local', 'localdomain', 'home.arpa']

/** Metadata services reachable by name inside a cloud (the single-label ones fall under the FQDN rule). */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'instance-data'])

/**
 * Decides whether a host name (lower case, as the URL parser leaves it) may be a
 * destination. Names that spell an address in a legacy form are judged as that address.
 */
export function classifyHostName(hostname: string): AddressClass {
  const name = hostname.toLowerCase().replace(/\.+$/, '')
  if (name === '') return { kind: 'refused', reason: 'an empty host name' }

  const literal = parseAddress(name)
  if (literal) return classifyAddress(literal)

  if (name === 'localhost' || name.endsWith('.localhost')) return { kind: 'loopback' }
  if (METADATA_NAMES.has(name)) return { kind: 'refused', reason: 'a cloud metadata host name' }
  const suffix = PRIVATE_SUFFIXES.find((end) => name === end || name.endsWith(`.${end}`))
  if (suffix) return { kind: 'refused', reason: `a private-network name (*.${suffix})` }
  if (!name.includes('.')) {
    return { kind: 'refused', reason: 'a single-label name (a fully qualified domain is needed)' }
  }

  const wrapped = addressInLabels(name)
  if (wrapped) {
    const inner = classifyAddress(wrapped)
    if (inner.kind !== 'public') {
      const why = inner.kind === 'loopback' ? 'a loopback address' : inner.reason
      return {
        kind: 'refused',
        reason: `a name that spells ${wrapped.toString()} (${why}), which wildcard DNS services resolve to that address`,
      }
    }
  }
  return { kind: 'public' }
}

/**
 * The IPv4 address spelled by a name's leading labels, as wildcard DNS services
 * (`10.0.0.1.nip.io`, `10-0-0-1.sslip.io`) answer it; null when there is none.
 */
function addressInLabels(name: string) {
  const labels = name.split('.')
  const dotted = labels.slice(0, 4)
  if (labels.length > 4 && dotted.every((label) => /^\d{1,3}$/.test(label))) {
    return parseAddress(dotted.join('.'))
  }
  const dashed = /^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})$/.exec(labels[0] ?? '')
  if (dashed && labels.length > 1) return parseAddress(dashed.slice(1).join('.'))
  return null
}
