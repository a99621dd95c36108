/**
 * Classifies literal IP addresses for the destination address guard. ipaddr.js knows the
 * special-purpose registries; this module decides which of them a tenant may reach and
 * looks through IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4),
 * so that `[::ffff:a9fe:a9fe]` is judged as 169.254.169.254.
 */
import ipaddr from 'ipaddr.js'

/** Where an address leads: the public internet, this machine, or somewhere refused (and why). */
export type AddressClass =
  | { kind: 'public' }
  | { kind: 'loopback' }
  | { kind: 'refused'; reason: string }

const PUBLIC: AddressClass = { kind: 'public' }
const LOOPBACK: AddressClass = { kind: 'loopback' }
const refused = (reason: string): AddressClass => ({ kind: 'refused', reason })

/** Instance metadata services, which hand out cloud credentials. */
const METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200'])

const IPV4_REASONS: Record<string, string> = {
  unspecified: 'an unspecified address (0.0.0.0/8)',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address (224.0.0.0/4)',
  linkLocal: 'a link-local address (169.254.0.0/16)',
  carrierGradeNat: 'a carrier-grade NAT address (100.64.0.0/10)',
  private: 'a private address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)',
}

const IPV6_REASONS: Record<string, string> = {
  unspecified: 'the unspecified address (::)',
  linkLocal: 'a link-local address (fe80::/10)',
  multicast: 'a multicast address (ff00::/8)',
  uniqueLocal: 'a unique-local address (fc00::/7)',
  teredo: 'a Teredo tunnel address (2001::/32)',
}

/** Parses a literal address in any spelling ipaddr.js accepts; null for a name. */
export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text
  // ipaddr.js also reads the legacy IPv4 forms (167772161, 0x0a000001, 012.0.0.1, 10.1).
  if (ipaddr.IPv4.isValid(bare)) return ipaddr.IPv4.parse(bare)
  if (ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare)
  return null
}

/** Decides whether a literal address may be a destination. */
export function classifyAddress(address: ipaddr.IPv4 | ipaddr.IPv6): AddressClass {
  return address.kind() === 'ipv4'
    ? classifyIPv4(address as ipaddr.IPv4)
    : classifyIPv6(address as ipaddr.IPv6)
}

function classifyIPv4(address: ipaddr.IPv4): AddressClass {
  if (METADATA_ADDRESSES.has(address.toString())) {
    return refused(`the cloud metadata address ${address.toString()}`)
  }
  const range: string = address.range()
  if (range === 'unicast') return PUBLIC
  if (range === 'loopback') return LOOPBACK
  return refused(IPV4_REASONS[range] ?? `a reserved address (${range})`)
}

function classifyIPv6(address: ipaddr.IPv6): AddressClass {
  if (METADATA_ADDRESSES.has(address.toString())) {
    return refused(`the cloud metadata address ${address.toString()}`)
  }
  const embedded = embeddedIPv4(address)
  if (embedded) {
    const inner = classifyIPv4(embedded)
    if (inner.kind !== 'refused') return inner
    return refused(`an IPv6 form of ${embedded.toString()}, ${inner.reason}`)
  }
  const range: string = address.range()
  if (range === 'unicast') return PUBLIC
  if (range === 'loopback') return LOOPBACK
  return refused(IPV6_REASONS[range] ?? `a reserved address (${range})`)
}

/**
 * The IPv4 address an IPv6 address stands for, where the IPv6 form is only a wrapper:
 * IPv4-mapped and -translated (::ffff:0:0/96, ::ffff:0:0:0/96), IPv4-compatible (::/96,
 * deprecated but still parsed), NAT64 well-known prefix (64:ff9b::/96) and 6to4 (2002::/16).
 */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  const parts = address.parts
  const range: string = address.range()
  const fromParts = (high: number, low: number) =>
    new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff])
  const [p0, p1, p2, p3, p4, p5, p6, p7] = parts as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  if (range === 'ipv4Mapped' || range === 'rfc6145') return fromParts(p6, p7)
  const compatible = p0 === 0 && p1 === 0 && p2 === 0 && p3 === 0 && p4 === 0 && p5 === 0
  // ::/128 and ::1/128 are the unspecified and loopback addresses, not IPv4 in disguise.
  if (compatible && (p6 !== 0 || p7 > 1)) return fromParts(p6, p7)
  if (p0 === 0x64 && p1 === 0xff9b && p2 === 0 && p3 === 0 && p4 === 0 && p5 === 0) {
    return fromParts(p6, p7)
  }
  if (range === '6to4') return fromParts(p1, p2)
  return null
}
