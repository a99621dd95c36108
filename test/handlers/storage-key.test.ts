import { describe, expect, it } from 'vitest'
import { objectKeyFor } from '../../src/handlers/storage-key'

const job = {
  organizationId: 'hospital-001',
  acceptedAt: '2026-03-07T04:05:06.789Z',
  payloadType: 'phi-access-audit',
  deliveryId: 'dlv_abcdefghijklmnopqrst',
}

describe('storage object keys', () => {
  it('Should fill every placeholder from the accept time in UTC, zero-padded', () => {
    expect(
      objectKeyFor('{organizationId}/{year}/{month}/{day}/{hour}/{type}/{deliveryId}', job),
    ).toEqual({
      ok: true,
      key: 'hospital-001/2026/03/07/04/phi-access-audit/dlv_abcdefghijklmnopqrst/dlv_abcdefghijklmnopqrst.json',
    })
  })

  it('Should use UTC even when the accept time carries an offset', () => {
    const local = { ...job, acceptedAt: '2026-12-31T23:30:00-02:00' }
    expect(objectKeyFor('{year}/{month}/{day}/{hour}', local)).toEqual({
      ok: true,
      key: '2027/01/01/01/dlv_abcdefghijklmnopqrst.json',
    })
  })

  it("Should trim the template's leading and trailing slashes as the seed writes them", () => {
    expect(objectKeyFor('/audit-logs/{organizationId}/{year}/{month}/{day}/', job)).toEqual({
      ok: true,
      key: 'audit-logs/hospital-001/2026/03/07/dlv_abcdefghijklmnopqrst.json',
    })
  })

  it('Should put the object at the top when the template is empty', () => {
    expect(objectKeyFor('/', job)).toEqual({ ok: true, key: 'dlv_abcdefghijklmnopqrst.json' })
  })

  it('Should keep spaces, unicode and plus signs exactly', () => {
    const typed = { ...job, payloadType: 'Zugriff auf Akte+Ü ✓' }
    expect(objectKeyFor('Audit Logs/{type}', typed)).toEqual({
      ok: true,
      key: 'Audit Logs/Zugriff auf Akte+Ü ✓/dlv_abcdefghijklmnopqrst.json',
    })
  })

  it.each([
    ['..', '{type} value ".." would make a ".." segment'],
    ['.', '{type} value "." would make a "." segment'],
    ['../other-tenant', '{type} value "../other-tenant" contains "/"'],
    ['a/b', '{type} value "a/b" contains "/"'],
    ['line\nbreak', '{type} value "line\nbreak" would make a control character or backslash'],
    ['back\\slash', '{type} value "back\\slash" would make a control character or backslash'],
    ['', '{type} value "" would make an empty segment (//)'],
  ])('Should refuse a payload type of %j', (payloadType, reason) => {
    expect(objectKeyFor('archive/{type}', { ...job, payloadType })).toEqual({ ok: false, reason })
  })

  it('Should refuse a template that yields an empty or relative segment', () => {
    expect(objectKeyFor('a//b', job)).toEqual({
      ok: false,
      reason: 'the key "a//b/dlv_abcdefghijklmnopqrst.json" would contain an empty segment (//)',
    })
    expect(objectKeyFor('a/../b', job)).toEqual({
      ok: false,
      reason: 'the key "a/../b/dlv_abcdefghijklmnopqrst.json" would contain a ".." segment',
    })
  })

  it('Should refuse an unknown placeholder', () => {
    expect(objectKeyFor('{tenant}/{year}', job)).toEqual({
      ok: false,
      reason: 'unknown placeholder {tenant}',
    })
  })

  it('Should refuse a key longer than S3 allows', () => {
    const long = { ...job, payloadType: 'x'.repeat(1000) }
    expect(objectKeyFor('{type}/{type}', long)).toEqual({
      ok: false,
      reason: 'the key is longer than 1024 bytes',
    })
  })

  it("Should require the tenant's own prefix in a bucket shared between tenants", () => {
    expect(
      objectKeyFor('{organizationId}/{year}', job, { requireOrganizationPrefix: true }),
    ).toEqual({ ok: true, key: 'hospital-001/2026/dlv_abcdefghijklmnopqrst.json' })
    expect(objectKeyFor('hospital-002/{year}', job, { requireOrganizationPrefix: true })).toEqual({
      ok: false,
      reason:
        'in a shared bucket the key must start with "hospital-001/", got "hospital-002/2026/dlv_abcdefghijklmnopqrst.json"',
    })
    expect(
      objectKeyFor(
        '{type}/{year}',
        { ...job, payloadType: 'hospital-002' },
        { requireOrganizationPrefix: true },
      ),
    ).toMatchObject({ ok: false })
  })
})
