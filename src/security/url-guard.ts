/**
 * The address guard for everything a destination makes the service connect to: webhook
 * URLs, S3 endpoints, e-mail provider API endpoints and SMTP hosts. It stops a tenant
 * from aiming the Worker at private networks, this machine or a cloud metadata service.
 *
 * Rules: `https` only; no credentials in a URL; no private (10/8, 172.16/12, 192.168/16),
 * loopback (127/8, ::1), link-local (169.254/16, fe80::/10), carrier-grade NAT
 * (100.64/10), unique-local (fc00::/7), unspecified (0/8), multicast, broadcast, reserved
 * or metadata addresses in any spelling; no `localhost`, `*.localhost`, `*.internal`,
 * `*.local`, single-label or metadata names. The WHATWG URL parser first normalizes the
 * legacy IPv4 spellings (decimal 167772161, octal 012.0.0.1, hex 0xa.0.0.1, short 10.1)
 * and IPv6 forms; `ip-ranges.ts` then judges the address, including IPv4 carried inside
 * IPv6 (`[::ffff:10.0.0.1]`).
 *
 * Limit: a Worker cannot resolve a name before `fetch` connects, so these rules apply to
 * literal addresses and to names as written. A public name whose DNS answers a private
 * address is not caught here; Cloudflare's egress does not route to private networks,
 * and delivery handlers never follow redirects, which closes the other usual bypass.
 *
 * The development flag (`ALLOW_LOOPBACK_DESTINATIONS=true`) allows loopback addresses and
 * names, over plain `http` too, so local peers can stand in for real destinations.
 * Nothing else relaxes these rules.
 */
import { allowsLoopback } from '../env'
import { fieldError } from '../lib/errors'
import { classifyHostName } from './host-names'
import type { AddressClass } from './ip-ranges'

export interface GuardOptions {
  /** The development flag: loopback destinations (and plain http to them) are allowed. */
  allowLoopback: boolean
}

/** A verdict: allowed, or refused with a sentence saying why (no field name). */
export type GuardVerdict = { ok: true } | { ok: false; reason: string }

const FLAG_HINT = 'allowed only under the development flag ALLOW_LOOPBACK_DESTINATIONS'

/** Judges a URL a destination would connect to. */
export function checkDestinationUrl(raw: string, options: GuardOptions): GuardVerdict {
  // The URL parser silently drops tabs and newlines; refuse them instead of guessing.
  if (/\s/.test(raw) || hasControlCharacter(raw)) {
    return { ok: false, reason: 'must not contain whitespace or control characters' }
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return { ok: false, reason: 'must be an absolute URL' }
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, reason: `must use https, not ${url.protocol.slice(0, -1)}` }
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'must not contain credentials (user:password@)' }
  }
  const host = judgeHost(url.hostname, options)
  if (!host.ok) return host
  if (url.protocol === 'http:') {
    const loopback = classifyHostName(url.hostname).kind === 'loopback'
    if (!options.allowLoopback || !loopback) {
      return { ok: false, reason: `must use https (plain http is ${FLAG_HINT}, to loopback)` }
    }
  }
  return { ok: true }
}

/** Judges a bare host (an SMTP server): a name, an IPv4 address or an IPv6 address. */
export function checkDestinationHost(raw: string, options: GuardOptions): GuardVerdict {
  if (!/^(?:[A-Za-z0-9._-]+|\[?[0-9A-Fa-f:.]+\]?)$/.test(raw)) {
    return { ok: false, reason: 'must be a host name or an IP address, without scheme or port' }
  }
  const bracketed = raw.includes(':') && !raw.startsWith('[') ? `[${raw}]` : raw
  let hostname: string
  try {
    // The same parser as for URLs, so that every legacy spelling normalizes alike.
    hostname = new URL(`https://${bracketed}/`).hostname
  } catch {
    return { ok: false, reason: 'must be a host name or an IP address' }
  }
  return judgeHost(hostname, options)
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}

function judgeHost(hostname: string, options: GuardOptions): GuardVerdict {
  const verdict: AddressClass = classifyHostName(hostname)
  if (verdict.kind === 'public') return { ok: true }
  if (verdict.kind === 'loopback') {
    return options.allowLoopback
      ? { ok: true }
      : { ok: false, reason: `must not point at loopback (${hostname}); loopback is ${FLAG_HINT}` }
  }
  return { ok: false, reason: `must not point at ${verdict.reason} (${hostname})` }
}

/** Throws the 400 naming `field` when the URL is refused under this deployment's flag. */
export function assertDestinationUrl(
  field: string,
  value: string,
  env: Pick<Env, 'ALLOW_LOOPBACK_DESTINATIONS'>,
): void {
  const verdict = checkDestinationUrl(value, { allowLoopback: allowsLoopback(env) })
  if (!verdict.ok) throw fieldError(field, verdict.reason)
}

/** Throws the 400 naming `field` when the host is refused under this deployment's flag. */
export function assertDestinationHost(
  field: string,
  value: string,
  env: Pick<Env, 'ALLOW_LOOPBACK_DESTINATIONS'>,
): void {
  const verdict = checkDestinationHost(value, { allowLoopback: allowsLoopback(env) })
  if (!verdict.ok) throw fieldError(field, verdict.reason)
}
