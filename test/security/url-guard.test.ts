import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import {
  assertDestinationHost,
  assertDestinationUrl,
  checkDestinationHost,
  checkDestinationUrl,
} from '../../src/security/url-guard'

const strict = { allowLoopback: false }
const dev = { allowLoopback: true }

const PRIVATE = 'a private address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)'
const METADATA = 'the cloud metadata address 169.254.169.254'

/** [url, the exact reason it is refused, with or without the development flag]. */
const REFUSED: Array<[string, string]> = [
  // Every spelling the outside reliability check sends.
  ['https://169.254.169.254/latest/meta-data', `must not point at ${METADATA} (169.254.169.254)`],
  ['https://10.0.0.8/h', `must not point at ${PRIVATE} (10.0.0.8)`],
  ['https://192.168.1.1/h', `must not point at ${PRIVATE} (192.168.1.1)`],
  ['https://172.16.5.4/h', `must not point at ${PRIVATE} (172.16.5.4)`],
  [
    'https://[::ffff:10.0.0.1]/h',
    `must not point at an IPv6 form of 10.0.0.1, ${PRIVATE} ([::ffff:a00:1])`,
  ],
  [
    'https://[::ffff:a9fe:a9fe]/h',
    `must not point at an IPv6 form of 169.254.169.254, ${METADATA} ([::ffff:a9fe:a9fe])`,
  ],
  ['https://0x0a000001/h', `must not point at ${PRIVATE} (10.0.0.1)`],
  ['https://167772161/h', `must not point at ${PRIVATE} (10.0.0.1)`],
  ['https://012.0.0.1/h', `must not point at ${PRIVATE} (10.0.0.1)`],
  [
    'https://100.64.0.1/h',
    'must not point at a carrier-grade NAT address (100.64.0.0/10) (100.64.0.1)',
  ],
  [
    'https://metadata.google.internal/h',
    'must not point at a cloud metadata host name (metadata.google.internal)',
  ],
  ['https://user:pw@example.com/h', 'must not contain credentials (user:password@)'],
  ['https://user@example.com/h', 'must not contain credentials (user:password@)'],
  ['ftp://example.com/h', 'must use https, not ftp'],
  ['https://[fd00::1]/h', 'must not point at a unique-local address (fc00::/7) ([fd00::1])'],
  ['https://[fe80::1]/h', 'must not point at a link-local address (fe80::/10) ([fe80::1])'],
  // More spellings of private and metadata addresses.
  ['https://0xa.0.0.1/h', `must not point at ${PRIVATE} (10.0.0.1)`],
  ['https://10.1/h', `must not point at ${PRIVATE} (10.0.0.1)`],
  ['https://0251.0376.0251.0376/', `must not point at ${METADATA} (169.254.169.254)`],
  ['https://2852039166/', `must not point at ${METADATA} (169.254.169.254)`],
  ['https://0xa9fea9fe/', `must not point at ${METADATA} (169.254.169.254)`],
  ['https://%31%30.0.0.1/', `must not point at ${PRIVATE} (10.0.0.1)`],
  ['https://１０.０.０.１/', `must not point at ${PRIVATE} (10.0.0.1)`],
  ['https://10.0.0.1./', `must not point at ${PRIVATE} (10.0.0.1)`],
  ['https://[::10.0.0.1]/', `must not point at an IPv6 form of 10.0.0.1, ${PRIVATE} ([::a00:1])`],
  [
    'https://[0:0:0:0:0:ffff:169.254.169.254]/',
    `must not point at an IPv6 form of 169.254.169.254, ${METADATA} ([::ffff:a9fe:a9fe])`,
  ],
  [
    'https://[64:ff9b::10.0.0.1]/',
    `must not point at an IPv6 form of 10.0.0.1, ${PRIVATE} ([64:ff9b::a00:1])`,
  ],
  [
    'https://[2002:a00:1::]/',
    `must not point at an IPv6 form of 10.0.0.1, ${PRIVATE} ([2002:a00:1::])`,
  ],
  [
    'https://[fd00:ec2::254]/',
    'must not point at the cloud metadata address fd00:ec2::254 ([fd00:ec2::254])',
  ],
  [
    'https://100.100.100.200/',
    'must not point at the cloud metadata address 100.100.100.200 (100.100.100.200)',
  ],
  ['https://0.0.0.0/', 'must not point at an unspecified address (0.0.0.0/8) (0.0.0.0)'],
  ['https://0/', 'must not point at an unspecified address (0.0.0.0/8) (0.0.0.0)'],
  ['https://[::]/', 'must not point at the unspecified address (::) ([::])'],
  ['https://224.0.0.1/', 'must not point at a multicast address (224.0.0.0/4) (224.0.0.1)'],
  ['https://[ff02::1]/', 'must not point at a multicast address (ff00::/8) ([ff02::1])'],
  ['https://255.255.255.255/', 'must not point at the broadcast address (255.255.255.255)'],
  ['https://240.0.0.1/', 'must not point at a reserved address (reserved) (240.0.0.1)'],
  ['https://169.254.1.1/', 'must not point at a link-local address (169.254.0.0/16) (169.254.1.1)'],
  ['https://[2001:db8::1]/', 'must not point at a reserved address (reserved) ([2001:db8::1])'],
  [
    'https://[2001:0:4136:e378::1]/',
    'must not point at a Teredo tunnel address (2001::/32) ([2001:0:4136:e378::1])',
  ],
  // Names.
  ['https://printer.local/', 'must not point at a private-network name (*.local) (printer.local)'],
  ['https://db.internal/', 'must not point at a private-network name (*.internal) (db.internal)'],
  ['https://INTERNAL./', 'must not point at a private-network name (*.internal) (internal.)'],
  [
    'https://router.home.arpa/',
    'must not point at a private-network name (*.home.arpa) (router.home.arpa)',
  ],
  ['https://metadata.goog/', 'must not point at a cloud metadata host name (metadata.goog)'],
  [
    'https://metadata/',
    'must not point at a single-label name (a fully qualified domain is needed) (metadata)',
  ],
  [
    'https://10.0.0.1.nip.io/',
    'must not point at a name that spells 10.0.0.1 (a private address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)), which wildcard DNS services resolve to that address (10.0.0.1.nip.io)',
  ],
  [
    'https://169-254-169-254.sslip.io/',
    `must not point at a name that spells 169.254.169.254 (${METADATA}), which wildcard DNS services resolve to that address (169-254-169-254.sslip.io)`,
  ],
  [
    'https://127.0.0.1.nip.io/',
    'must not point at a name that spells 127.0.0.1 (a loopback address), which wildcard DNS services resolve to that address (127.0.0.1.nip.io)',
  ],
  // Malformed.
  ['not a url', 'must not contain whitespace or control characters'],
  ['https://exa\nmple.com/', 'must not contain whitespace or control characters'],
  ['/relative/path', 'must be an absolute URL'],
  ['javascript:alert(1)', 'must use https, not javascript'],
  ['file:///etc/passwd', 'must use https, not file'],
]

const LOOPBACK: Array<[string, string]> = [
  ['https://127.0.0.1/h', '127.0.0.1'],
  ['https://127.1/h', '127.0.0.1'],
  ['https://2130706433/h', '127.0.0.1'],
  ['https://0x7f000001/h', '127.0.0.1'],
  ['https://0177.0.0.1/h', '127.0.0.1'],
  ['https://[::1]/h', '[::1]'],
  ['https://[::ffff:127.0.0.1]/h', '[::ffff:7f00:1]'],
  ['https://localhost/h', 'localhost'],
  ['https://LocalHost./h', 'localhost.'],
  ['https://api.localhost/h', 'api.localhost'],
]

describe('url guard: refused addresses', () => {
  for (const [url, reason] of REFUSED) {
    it(`Should refuse ${JSON.stringify(url)} with and without the development flag`, () => {
      expect(checkDestinationUrl(url, strict)).toEqual({ ok: false, reason })
      expect(checkDestinationUrl(url, dev)).toEqual({ ok: false, reason })
    })
  }
})

describe('url guard: loopback', () => {
  for (const [url, host] of LOOPBACK) {
    it(`Should refuse ${url} without the flag and allow it with the flag`, () => {
      expect(checkDestinationUrl(url, strict)).toEqual({
        ok: false,
        reason: `must not point at loopback (${host}); loopback is allowed only under the development flag ALLOW_LOOPBACK_DESTINATIONS`,
      })
      expect(checkDestinationUrl(url, dev)).toEqual({ ok: true })
    })
  }

  it('Should allow plain http to loopback only under the flag', () => {
    expect(checkDestinationUrl('http://127.0.0.1:8788/hook', dev)).toEqual({ ok: true })
    expect(checkDestinationUrl('http://localhost:9000/', dev)).toEqual({ ok: true })
    expect(checkDestinationUrl('http://127.0.0.1:8788/hook', strict)).toEqual({
      ok: false,
      reason:
        'must not point at loopback (127.0.0.1); loopback is allowed only under the development flag ALLOW_LOOPBACK_DESTINATIONS',
    })
  })

  it('Should refuse plain http to a public host even under the flag', () => {
    const reason =
      'must use https (plain http is allowed only under the development flag ALLOW_LOOPBACK_DESTINATIONS, to loopback)'
    expect(checkDestinationUrl('http://example.com/hook', dev)).toEqual({ ok: false, reason })
    expect(checkDestinationUrl('http://example.com/hook', strict)).toEqual({ ok: false, reason })
  })
})

describe('url guard: public destinations', () => {
  for (const url of [
    'https://example.com/hook',
    'https://api.hospital-a.com:8443/audit-webhook?x=1',
    'https://8.8.8.8/h',
    'https://[2606:4700:4700::1111]/h',
    'https://[::ffff:8.8.8.8]/h',
    'https://s3.us-east-1.amazonaws.com',
    'https://172.32.0.1/',
    'https://100.128.0.1/',
  ]) {
    it(`Should allow ${url}`, () => {
      expect(checkDestinationUrl(url, strict)).toEqual({ ok: true })
    })
  }
})

describe('url guard: SMTP hosts', () => {
  it('Should judge bare hosts by the same rules as URLs', () => {
    expect(checkDestinationHost('smtp.example.com', strict)).toEqual({ ok: true })
    expect(checkDestinationHost('0x0a000001', strict)).toEqual({
      ok: false,
      reason: `must not point at ${PRIVATE} (10.0.0.1)`,
    })
    expect(checkDestinationHost('::ffff:a9fe:a9fe', strict)).toEqual({
      ok: false,
      reason: `must not point at an IPv6 form of 169.254.169.254, ${METADATA} ([::ffff:a9fe:a9fe])`,
    })
    expect(checkDestinationHost('mail.internal', strict)).toEqual({
      ok: false,
      reason: 'must not point at a private-network name (*.internal) (mail.internal)',
    })
    expect(checkDestinationHost('127.0.0.1', dev)).toEqual({ ok: true })
    expect(checkDestinationHost('localhost', strict).ok).toBe(false)
  })

  it('Should refuse a host with a scheme, a port, credentials or spaces', () => {
    const reason = 'must be a host name or an IP address, without scheme or port'
    for (const host of [
      'smtp://mail.example.com',
      'mail.example.com:25',
      'u@mail.example.com',
      'a b',
    ]) {
      expect(checkDestinationHost(host, strict)).toEqual({ ok: false, reason })
    }
  })
})

describe('url guard: the deployment flag', () => {
  it('Should read the flag from the environment (on in tests)', () => {
    expect(env.ALLOW_LOOPBACK_DESTINATIONS).toBe('true')
    expect(() =>
      assertDestinationUrl('config.webhook.url', 'http://127.0.0.1:1/x', env),
    ).not.toThrow()
    expect(() =>
      assertDestinationUrl('config.webhook.url', 'http://127.0.0.1:1/x', {
        ALLOW_LOOPBACK_DESTINATIONS: 'false',
      }),
    ).toThrow(
      'config.webhook.url: must not point at loopback (127.0.0.1); loopback is allowed only under the development flag ALLOW_LOOPBACK_DESTINATIONS',
    )
    expect(() => assertDestinationHost('config.email.config.host', 'localhost', env)).not.toThrow()
    expect(() =>
      assertDestinationHost('config.email.config.host', '0177.1', {
        ALLOW_LOOPBACK_DESTINATIONS: 'false',
      }),
    ).toThrow(
      'config.email.config.host: must not point at loopback (127.0.0.1); loopback is allowed only under the development flag ALLOW_LOOPBACK_DESTINATIONS',
    )
  })
})
