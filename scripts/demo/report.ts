/** The demo's report: what went in, what was accepted, delivered and verified, how fast. */
import type { TimingSummary } from '../../src/client/index.ts'
import { SOURCES, type SourceId } from './records.ts'
import { DESTINATION_TYPES, type DemoResult } from './run.ts'

/** Failures listed in full; the rest are counted. */
const MAX_LISTED_FAILURES = 20

const ms = (value: number) => (Number.isNaN(value) ? '-' : String(Math.round(value)))

function table(rows: string[][]): string[] {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? []
  return rows.map((row) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('   ')
      .trimEnd(),
  )
}

export function formatReport(result: DemoResult, target: { baseUrl: string }): string {
  const artifacts = result.records * DESTINATION_TYPES.length
  const verified = DESTINATION_TYPES.reduce((sum, type) => sum + result.verified[type], 0)
  const delivered = DESTINATION_TYPES.reduce((sum, type) => sum + result.delivered[type], 0)
  const latency = (summary: TimingSummary) => [ms(summary.p50), ms(summary.p95), ms(summary.max)]

  const lines = [
    `Demo ${result.runId}: ${result.records} real audit records through ${target.baseUrl} for ${result.organizationId}`,
    '',
    'Input (data/)',
    ...table(
      (Object.keys(SOURCES) as SourceId[])
        .filter((id) => result.bySource[id] > 0)
        .map((id) => [`  ${SOURCES[id].label}`, String(result.bySource[id])]),
    ),
    '',
    `Accepted: ${result.accepted} of ${result.records}`,
    ...table([
      ['  destination', 'delivered', 'verified', 'p50 ms', 'p95 ms', 'max ms'],
      ...DESTINATION_TYPES.map((type) => [
        `  ${type}`,
        String(result.delivered[type]),
        String(result.verified[type]),
        ...latency(result.latency[type]),
      ]),
      ['  all', String(delivered), String(verified), ...latency(result.latency.all)],
    ]),
    '  (latency: from accepted to delivered, by the service’s own timestamps)',
    '',
    `Failures: ${result.failures.length}`,
    ...result.failures
      .slice(0, MAX_LISTED_FAILURES)
      .map(
        (failure) =>
          `  ${failure.record}${failure.type ? ` [${failure.type}]` : ''}${failure.deliveryId ? ` ${failure.deliveryId}` : ''}: ${failure.reason}`,
      ),
    ...(result.failures.length > MAX_LISTED_FAILURES
      ? [`  … and ${result.failures.length - MAX_LISTED_FAILURES} more`]
      : []),
    '',
    'Checked at each destination: webhook signature valid (standardwebhooks) and body equal to the envelope sent;',
    'S3 object at the reported key equal to the envelope; mail received with its rendered subject and the envelope',
    'attached; download link serving the envelope.',
    '',
    result.ok
      ? `Delivered and verified ${verified} of ${artifacts} artifacts (${result.records} records × ${DESTINATION_TYPES.length} destination types) in ${(result.durationMs / 1000).toFixed(1)} s: nothing lost.`
      : `NOT VERIFIED: delivered and verified ${verified} of ${artifacts} artifacts; ${artifacts - verified} lost or unverified (see failures).`,
  ]
  return `${lines.join('\n')}\n`
}
