/**
 * The benchmark's verdict: each target of the issue as a ratio to the ceiling measured in
 * the same run (or an absolute bound), met or missed and by how much, and the tables
 * printed at the end of a run.
 */
import type { EndToEndResult } from '../scenarios/end-to-end.ts'
import type { IngestResult } from '../scenarios/ingest.ts'
import type { LoadResult } from './load.ts'

export interface Target {
  name: string
  target: string
  actual: string
  met: boolean
  /** How far off a missed target is, in words; null when met. */
  missedBy: string | null
}

export interface PhaseResults {
  /** Mean of the ceiling measurements of the run (requests per second). */
  ceilingPerSecond: number
  ceilings: LoadResult[]
  single: IngestResult
  batch: IngestResult
  tenants: IngestResult
  /** Null in an `--ingest-only` run, as is `individual`. */
  seed: (EndToEndResult & { runtimeCpuMsPerDelivery: number }) | null
  individual: (EndToEndResult & { runtimeCpuMsPerDelivery: number }) | null
}

const GIB = 1024 ** 3

function ratioTarget(name: string, actual: number, minimum: number, unit: string): Target {
  const met = actual >= minimum
  return {
    name,
    target: `>= ${minimum} x ceiling ${unit}`,
    actual: `${actual.toFixed(2)} x`,
    met,
    missedBy: met
      ? null
      : `${(((minimum - actual) / minimum) * 100).toFixed(0)} % short (${actual.toFixed(2)} of ${minimum})`,
  }
}

/**
 * Every target of the issue, met or missed. `ceilingMemoryBytes` is the no-op Worker's peak
 * in the same harness, named beside a missed memory target because the harness's own
 * processes count towards it.
 */
export function evaluateTargets(
  results: PhaseResults,
  peakMemoryBytes: number,
  ceilingMemoryBytes: number,
): Target[] {
  const { seed, individual } = results
  const lost =
    results.single.lost +
    results.batch.lost +
    results.tenants.lost +
    (seed ? seed.missing + seed.refused : 0) +
    (individual ? individual.missing + individual.refused : 0)
  const memoryMet = peakMemoryBytes < GIB
  return [
    ratioTarget('single-delivery ingest', results.single.ratio, 0.5, 'req/s'),
    ratioTarget('batch ingest (deliveries/s)', results.batch.ratio, 20, 'req/s'),
    ...(individual
      ? [
          ratioTarget(
            `${individual.events} individual deliveries verified (deliveries/s)`,
            individual.complete ? individual.deliveriesPerSecond / results.ceilingPerSecond : 0,
            1,
            'req/s',
          ),
        ]
      : []),
    ...(seed ? [seedTarget(seed)] : []),
    {
      name: 'nothing lost',
      target: '0 lost or refused',
      actual: String(lost),
      met: lost === 0,
      missedBy: lost === 0 ? null : `${lost} deliveries not stored, refused or not verified`,
    },
    {
      name: 'runtime peak memory (workerd RSS)',
      target: '< 1 GiB',
      actual: `${(peakMemoryBytes / 1024 ** 2).toFixed(0)} MiB`,
      met: memoryMet,
      missedBy: memoryMet
        ? null
        : `${((peakMemoryBytes - GIB) / 1024 ** 2).toFixed(0)} MiB over (the no-op Worker: ${(ceilingMemoryBytes / 1024 ** 2).toFixed(0)} MiB)`,
    },
  ]
}

function seedTarget(seed: EndToEndResult): Target {
  const met = seed.complete && seed.seconds <= 60
  return {
    name: `seed scenario (${seed.events} events, ${seed.organizations} organizations)`,
    target: '<= 60 s, all verified',
    actual: `${seed.seconds} s${seed.complete ? '' : `, ${seed.missing} missing`}`,
    met,
    missedBy: met
      ? null
      : seed.complete
        ? `${(seed.seconds - 60).toFixed(1)} s over (${(((seed.seconds - 60) / 60) * 100).toFixed(0)} %)`
        : `${seed.missing} of ${seed.expected} not verified within the time limit`,
  }
}

/** Renders rows as an aligned text table. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  )
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i] as number)).join(' | ')} |`
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`
  return [line(headers), rule, ...rows.map(line)].join('\n')
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

export const PHASE_HEADERS = [
  'phase',
  'req/s',
  'deliveries/s',
  'p50 / p99 ms',
  'vs ceiling',
  'runtime CPU ms per req. or delivery',
]

/** The throughput table: one row per phase. */
export function phaseRows(results: PhaseResults): string[][] {
  /** `batchSize` null: a single-delivery phase, reported per request. */
  const load = (name: string, r: IngestResult, batchSize: number | null) => [
    name,
    fmt(r.requestsPerSecond, 1),
    batchSize === null ? '' : fmt(r.eventsPerSecond),
    `${fmt(r.latencyMs.p50)} / ${fmt(r.latencyMs.p99)}`,
    `${r.ratio.toFixed(2)} x`,
    fmt(
      batchSize === null
        ? r.runtimeCpuMsPerRequest
        : (r.runtimeCpuSeconds * 1000) / Math.max(1, r.ok * batchSize),
      2,
    ),
  ]
  const e2e = (name: string, r: NonNullable<PhaseResults['seed']>) => [
    name,
    '',
    fmt(r.deliveriesPerSecond, 1),
    r.complete ? `${fmt(r.seconds, 1)} s in all` : `incomplete after ${fmt(r.seconds, 0)} s`,
    `${(r.deliveriesPerSecond / results.ceilingPerSecond).toFixed(2)} x`,
    fmt(r.runtimeCpuMsPerDelivery, 2),
  ]
  const ceilings = results.ceilings
  // Every figure of the ceiling's row is the mean over its measurements, latencies included.
  const mean = (pick: (c: LoadResult) => number) =>
    ceilings.reduce((n, c) => n + pick(c), 0) / Math.max(1, ceilings.length)
  return [
    [
      `ceiling: no-op Worker (mean of ${ceilings.length})`,
      fmt(results.ceilingPerSecond, 1),
      '',
      `${fmt(mean((c) => c.latencyMs.p50))} / ${fmt(mean((c) => c.latencyMs.p99))}`,
      '1.00 x',
      fmt(
        mean((c) => c.runtimeCpuMsPerRequest),
        2,
      ),
    ],
    load('single-delivery ingest, 1 org', results.single, null),
    load(
      `batch ingest, ${results.batch.batchSize} per request`,
      results.batch,
      results.batch.batchSize,
    ),
    load(`single-delivery ingest, ${results.tenants.organizations} orgs`, results.tenants, null),
    ...(results.seed
      ? [e2e(`seed scenario, ${fmt(results.seed.events)} events in bulk deliveries`, results.seed)]
      : []),
    ...(results.individual
      ? [
          e2e(
            `${fmt(results.individual.events)} individual deliveries, webhook + R2`,
            results.individual,
          ),
        ]
      : []),
  ]
}
