import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { findSpans, pathKey } from '../../src/lib/json-spans'

const textAt = (text: string, path: (string | number)[]) => {
  const span = findSpans(text, (p) => pathKey(p) === pathKey(path)).get(pathKey(path))
  return span ? text.slice(span.start, span.end) : undefined
}

describe('findSpans', () => {
  it('returns the exact text of a nested value, big integers and key order intact', () => {
    const body =
      '{"payload":{"type":"t","data":{"2":"b","1":"a","big":12345678901234567890,"s":"caf\\u00e9 \\"q\\""},"metadata":null}}'
    expect(textAt(body, ['payload', 'data'])).toBe(
      '{"2":"b","1":"a","big":12345678901234567890,"s":"caf\\u00e9 \\"q\\""}',
    )
    expect(textAt(body, ['payload', 'metadata'])).toBe('null')
    expect(textAt(body, ['payload', 'missing'])).toBeUndefined()
  })

  it('keeps whitespace inside the value and ignores it around', () => {
    const body =
      '{ "deliveries" : [ {"payload": {"data" : [ 1 , 2 ] }} , {"payload":{"data":"x"}} ] }'
    expect(textAt(body, ['deliveries', 0, 'payload', 'data'])).toBe('[ 1 , 2 ]')
    expect(textAt(body, ['deliveries', 1, 'payload', 'data'])).toBe('"x"')
    expect(textAt(body, ['deliveries', 1])).toBe('{"payload":{"data":"x"}}')
  })

  it('takes the last of duplicate keys, as JSON.parse does', () => {
    expect(textAt('{"a":1,"a":[2]}', ['a'])).toBe('[2]')
  })

  it('finds, for any JSON value, text that parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (data, other) => {
        const body = JSON.stringify({ before: other, payload: { data }, after: other }, null, 1)
        const found = textAt(body, ['payload', 'data'])
        expect(JSON.parse(found as string)).toEqual(JSON.parse(JSON.stringify(data)))
      }),
      { numRuns: 300 },
    )
  })
})

describe('findSpans on hostile input', () => {
  it('forgets what it found inside a key that is repeated later', () => {
    const body = '{"payload":{"data":1,"metadata":[1]},"payload":{"data":{"x":2}}}'
    const spans = findSpans(body, (p) => p.length === 2 && p[0] === 'payload')
    expect([...spans.keys()]).toEqual([pathKey(['payload', 'data'])])
    expect(textAt(body, ['payload', 'data'])).toBe('{"x":2}')
  })

  it('scans escape-heavy strings in time proportional to their size', () => {
    const escaped = JSON.stringify({ payload: { data: '\\'.repeat(2_000_000) } })
    // A quadratic scan takes minutes on this input and runs into the test timeout.
    expect(textAt(escaped, ['payload', 'data'])?.length).toBe(4_000_002)
  })
})
