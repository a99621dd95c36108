import { describe, expect, it } from 'vitest'
import { keyMatcher } from '../../src/services/retention/key-dates'

const ID = 'dlv_abcdefghijklmnopqrst'

describe('retention: the accept period a storage key names', () => {
  it('Should read the day from the default template and end the period at the next midnight UTC', () => {
    const matcher = keyMatcher('{organizationId}/{year}/{month}/{day}', 'hospital-1')
    expect(matcher).toMatchObject({ prefix: 'hospital-1/', dateOrdered: true, dated: true })
    expect(matcher.periodEnd(`hospital-1/2026/02/28/${ID}.json`)).toBe(Date.UTC(2026, 2, 1))
    expect(matcher.periodEnd(`hospital-1/2026/12/31/${ID}.json`)).toBe(Date.UTC(2027, 0, 1))
  })

  it('Should use the most precise period the template names', () => {
    const byHour = keyMatcher('audit/{organizationId}/{year}/{month}/{day}/{hour}', 'h')
    expect(byHour.prefix).toBe('audit/h/')
    expect(byHour.periodEnd(`audit/h/2026/03/07/23/${ID}.json`)).toBe(Date.UTC(2026, 2, 8))
    const byMonth = keyMatcher('{year}-{month}', 'h')
    expect(byMonth.periodEnd(`2026-12/${ID}.json`)).toBe(Date.UTC(2027, 0, 1))
    const byYear = keyMatcher('archive/{year}', 'h')
    expect(byYear.periodEnd(`archive/2025/${ID}.json`)).toBe(Date.UTC(2026, 0, 1))
  })

  it('Should not match keys the template cannot produce', () => {
    const matcher = keyMatcher('{organizationId}/{year}/{month}/{day}', 'hospital-1')
    for (const key of [
      `hospital-2/2026/02/28/${ID}.json`,
      'hospital-1/2026/02/28/notes.txt',
      `hospital-1/2026/02/28/extra/${ID}.json`,
      `hospital-1/2026/2/28/${ID}.json`,
      `hospital-1/2026/02/28/${ID}.json.bak`,
    ]) {
      expect(matcher.periodEnd(key), key).toBeUndefined()
    }
  })

  it('Should say when listing order is not date order, and when keys carry no date', () => {
    expect(keyMatcher('{organizationId}/{type}/{year}/{month}/{day}', 'h')).toMatchObject({
      prefix: 'h/',
      dateOrdered: false,
      dated: true,
    })
    expect(keyMatcher('{year}/{day}', 'h').dateOrdered).toBe(false)
    const undated = keyMatcher('exports/{type}', 'h')
    expect(undated).toMatchObject({ dated: false, dateOrdered: false })
    expect(undated.periodEnd(`exports/phi-access/${ID}.json`)).toBeNull()
  })

  it('Should treat an empty template as objects at the top of the store', () => {
    const matcher = keyMatcher('', 'h')
    expect(matcher.prefix).toBe('')
    expect(matcher.periodEnd(`${ID}.json`)).toBeNull()
    expect(matcher.periodEnd(`x/${ID}.json`)).toBeUndefined()
  })
})
