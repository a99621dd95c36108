import { describe, expect, it } from 'vitest'
import { call, createTenant } from '../support/api'
import { describeSecurityCases } from '../support/security-cases'

function validation(path: string, message: string) {
  return {
    error: {
      code: 'validation_error',
      message: `${path}: ${message}`,
      details: { issues: [{ path, message }] },
      requestId: expect.any(String),
    },
  }
}

describe('GET /v1/metrics: invalid queries', () => {
  it('Should refuse an end before the start, naming endDate', async () => {
    const { apiKey } = await createTenant('metval')
    const response = await call(
      '/v1/metrics?startDate=2026-12-02T00:00:00Z&endDate=2026-12-01T00:00:00Z',
      { token: apiKey },
    )
    expect(response.status).toBe(400)
    expect(response.json).toEqual(validation('query.endDate', 'must be after startDate'))
  })

  it('Should refuse a start in the future when the end defaults to now', async () => {
    const { apiKey } = await createTenant('metval')
    const future = new Date(Date.now() + 3_600_000).toISOString()
    const response = await call(`/v1/metrics?startDate=${future}`, { token: apiKey })
    expect(response.status).toBe(400)
    expect(response.json).toEqual(
      validation('query.startDate', 'must be before now when endDate is left out'),
    )
  })

  it('Should refuse a time series with more than 1500 points', async () => {
    const { apiKey } = await createTenant('metval')
    const response = await call(
      '/v1/metrics?startDate=2026-12-01T00:00:00Z&endDate=2026-12-03T00:00:00Z&granularity=minute',
      { token: apiKey },
    )
    expect(response.status).toBe(400)
    expect(response.json).toEqual(
      validation(
        'query.granularity',
        '"minute" over this range gives 2880 points; at most 1500: choose a coarser granularity or a shorter range',
      ),
    )
  })

  it('Should refuse an unknown granularity, destination type and a date that is not ISO 8601', async () => {
    const { apiKey } = await createTenant('metval')
    const granularity = await call('/v1/metrics?granularity=week', { token: apiKey })
    expect(granularity.status).toBe(400)
    expect(granularity.json).toEqual(
      validation('query.granularity', 'Invalid option: expected one of "minute"|"hour"|"day"'),
    )
    const type = await call('/v1/metrics?destinationType=fax', { token: apiKey })
    expect(type.json).toEqual(
      validation(
        'query.destinationType',
        'Invalid option: expected one of "webhook"|"storage"|"email"|"download"',
      ),
    )
    const date = await call('/v1/metrics?startDate=yesterday', { token: apiKey })
    expect(date.json).toEqual(validation('query.startDate', 'Invalid ISO datetime'))
  })

  it('Should default to the last 24 hours by the hour', async () => {
    const { apiKey, organizationId } = await createTenant('metval')
    const before = Date.now()
    const response = await call('/v1/metrics', { token: apiKey })
    expect(response.status).toBe(200)
    const { startDate, endDate, granularity, timeSeries } = response.json
    expect(granularity).toBe('hour')
    expect(response.json.organizationId).toBe(organizationId)
    const span = Date.parse(endDate) - Date.parse(startDate)
    // Whole minutes around [now - 24 h, now): at most one extra minute at each end.
    expect(span).toBeGreaterThanOrEqual(86_400_000)
    expect(span).toBeLessThanOrEqual(86_400_000 + 120_000)
    expect(Date.parse(endDate)).toBeGreaterThanOrEqual(before)
    expect(timeSeries.length).toBeGreaterThanOrEqual(24)
    expect(timeSeries.length).toBeLessThanOrEqual(26)
  })
})

describeSecurityCases('metrics', {
  missingId: '',
  routes: [
    { method: 'GET', path: '/v1/metrics' },
    { method: 'GET', path: '/v1/metrics/prometheus' },
  ],
})
