import { beforeAll, describe, expect, it } from 'vitest'
import { renderPrometheus } from '../../src/services/metrics/prometheus'
import { emptyCounts } from '../../src/services/metrics/rollup'
import { call, createTenant } from '../support/api'
import {
  createWebhookDestination,
  injectFault,
  seedDelivery,
  waitForDelivery,
} from '../support/delivery-helpers'
import { histogramOf, pollMetrics, recordedAttempts } from '../support/metrics-helpers'

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Parses the text exposition format: comments by family, samples with their labels. */
function parse(text: string): {
  help: Map<string, string>
  types: Map<string, string>
  samples: Sample[]
} {
  const help = new Map<string, string>()
  const types = new Map<string, string>()
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line)
    if (comment) {
      ;(comment[1] === 'HELP' ? help : types).set(comment[2] as string, comment[3] as string)
      continue
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$/.exec(line)
    if (!sample) throw new Error(`not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const pair of (sample[2] as string).matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1] as string] = (pair[2] as string).replace(/\\(.)/g, (_, c) =>
        c === 'n' ? '\n' : c,
      )
    samples.push({ name: sample[1] as string, labels, value: Number(sample[3]) })
  }
  return { help, types, samples }
}

function value(
  samples: Sample[],
  name: string,
  labels: Record<string, string>,
): number | undefined {
  return samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value
}

describe('GET /v1/metrics/prometheus', () => {
  let tenant: Awaited<ReturnType<typeof createTenant>>
  let good: Awaited<ReturnType<typeof createWebhookDestination>>
  let bad: Awaited<ReturnType<typeof createWebhookDestination>>
  let deliveryIds: string[]

  beforeAll(async () => {
    tenant = await createTenant('prom')
    await call('/v1/settings', {
      method: 'PUT',
      token: tenant.apiKey,
      body: { retry: { maxAttempts: 3, baseDelay: 100, maxDelay: 100 } },
    })
    good = await createWebhookDestination(tenant.apiKey, { label: 'good' })
    bad = await createWebhookDestination(tenant.apiKey, { label: 'bad' })
    await injectFault(bad.path, { mode: 'status', status: 503, times: 3 })
    const batch = await call('/v1/deliveries/batch', {
      token: tenant.apiKey,
      body: {
        deliveries: [seedDelivery(good.id), seedDelivery(good.id), seedDelivery([good.id, bad.id])],
      },
    })
    expect(batch.status).toBe(200)
    deliveryIds = batch.json.results.map((r: { deliveryId: string }) => r.deliveryId)
    for (const id of deliveryIds) await waitForDelivery(tenant.apiKey, id)
  }, 60_000)

  it('Should expose cumulative counters with the organization, destination and type labels', async () => {
    const text = await pollMetrics(tenant.apiKey, '/v1/metrics/prometheus', (body: string) => {
      const samples = parse(body).samples
      const base = { destination: bad.id, outcome: 'failed' }
      return (
        value(samples, 'audit_delivery_attempts_total', base) === 1 &&
        value(samples, 'audit_deliveries_accepted_total', { destination: good.id }) === 3
      )
    })
    const { samples, types } = parse(text)
    const of = (destination: string) => ({
      organization: tenant.organizationId,
      destination,
      destination_type: 'webhook',
    })
    expect(value(samples, 'audit_deliveries_accepted_total', of(good.id))).toBe(3)
    expect(value(samples, 'audit_deliveries_accepted_total', of(bad.id))).toBe(1)
    expect(
      ['delivered', 'failed'].map((outcome) =>
        value(samples, 'audit_deliveries_completed_total', { ...of(bad.id), outcome }),
      ),
    ).toEqual([0, 1])
    expect(
      ['delivered', 'retried', 'failed', 'other'].map((outcome) =>
        value(samples, 'audit_delivery_attempts_total', { ...of(good.id), outcome }),
      ),
    ).toEqual([3, 0, 0, 0])
    expect(
      ['delivered', 'retried', 'failed', 'other'].map((outcome) =>
        value(samples, 'audit_delivery_attempts_total', { ...of(bad.id), outcome }),
      ),
    ).toEqual([0, 2, 1, 0])
    expect(types.get('audit_delivery_attempts_total')).toBe('counter')
    expect(types.get('audit_delivery_latency_seconds')).toBe('histogram')
    expect(types.get('audit_delivery_backlog')).toBe('gauge')
  })

  it('Should give a cumulative latency histogram in seconds matching the recorded attempts', async () => {
    const attempts = await recordedAttempts(tenant.apiKey, deliveryIds)
    const text = await pollMetrics(tenant.apiKey, '/v1/metrics/prometheus', (body: string) => {
      const samples = parse(body).samples
      return value(samples, 'audit_delivery_latency_seconds_count', { destination: bad.id }) === 3
    })
    const { samples } = parse(text)
    for (const destination of [good.id, bad.id]) {
      const mine = attempts.filter((a) => a.destinationId === destination)
      const { buckets, sumMs } = histogramOf(mine)
      const series = samples.filter(
        (s) =>
          s.name === 'audit_delivery_latency_seconds_bucket' &&
          s.labels.destination === destination,
      )
      expect(series.map((s) => s.labels.le)).toEqual([
        '0.05',
        '0.1',
        '0.25',
        '0.5',
        '1',
        '2.5',
        '5',
        '10',
        '30',
        '+Inf',
      ])
      let cumulative = 0
      expect(series.map((s) => s.value)).toEqual(
        buckets.map((n) => {
          cumulative += n
          return cumulative
        }),
      )
      expect(value(samples, 'audit_delivery_latency_seconds_count', { destination })).toBe(
        mine.length,
      )
      expect(value(samples, 'audit_delivery_latency_seconds_sum', { destination })).toBe(
        sumMs / 1000,
      )
    }
  })

  it('Should answer backlog gauges and the text content type', async () => {
    const response = await call('/v1/metrics/prometheus', { token: tenant.apiKey })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    const { samples } = parse(response.text)
    for (const state of ['queued', 'held', 'retrying', 'delivering'])
      expect(value(samples, 'audit_delivery_backlog', { destination: good.id, state })).toBe(0)
    expect(
      value(samples, 'audit_delivery_backlog_oldest_age_seconds', { destination: good.id }),
    ).toBe(0)
    // Three 503s in a row; the circuit opens only at five (the default threshold).
    expect(value(samples, 'audit_destination_consecutive_failures', { destination: bad.id })).toBe(
      3,
    )
    expect(value(samples, 'audit_destination_circuit_open', { destination: bad.id })).toBe(0)
  })

  it('Should show only the key organization, with zero counters before any delivery', async () => {
    const other = await createTenant('prom')
    const hook = await createWebhookDestination(other.apiKey)
    const response = await call('/v1/metrics/prometheus', { token: other.apiKey })
    const { samples } = parse(response.text)
    expect(new Set(samples.map((s) => s.labels.organization))).toEqual(
      new Set([other.organizationId]),
    )
    expect(new Set(samples.map((s) => s.labels.destination))).toEqual(new Set([hook.id]))
    expect(value(samples, 'audit_deliveries_accepted_total', { destination: hook.id })).toBe(0)
  })

  it('Should escape label values as the exposition format requires', () => {
    const text = renderPrometheus(
      'org-"quoted"\\back\nline',
      [{ destinationId: 'dst_x', destinationType: 'webhook', ...emptyCounts() }],
      [],
    )
    expect(text).toContain(
      'audit_deliveries_accepted_total{organization="org-\\"quoted\\"\\\\back\\nline",destination="dst_x",destination_type="webhook"} 0',
    )
    expect(parse(text).samples[0]?.labels.organization).toBe('org-"quoted"\\back\nline')
  })
})
