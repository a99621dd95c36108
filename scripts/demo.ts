/**
 * `npm run demo`: replays the real audit records in `data/` (FHIR AuditEvents from HL7
 * R4/R5 and IHE BALP, AWS CloudTrail, Kubernetes audit) through the local service started
 * by `npm start`, to the demo organization's webhook, S3, e-mail and download
 * destinations; checks every artifact where it landed and prints a report. Exits 1 when
 * anything was lost or could not be verified.
 *
 *   npm run demo                   every record
 *   npm run demo -- --limit 20     a slice that still holds every kind of record
 *   DEMO_LIMIT=20 npm run demo     the same
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createDeliveryService } from '../src/client/index.ts'
import { loadRecords } from './demo/load-records.ts'
import { REPOSITORY_ROOT, waitForLocalStack } from './demo/local-stack.ts'
import { localStackPeers } from './demo/peers.ts'
import { progressBar } from './demo/progress.ts'
import { interleave } from './demo/records.ts'
import { formatReport } from './demo/report.ts'
import { runDemo } from './demo/run.ts'

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const number = Number(value)
  if (!Number.isInteger(number) || number < 1)
    throw new Error(`${name} must be a whole number above 0, not "${value}"`)
  return number
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { limit: { type: 'string' }, wave: { type: 'string' } },
  })
  const limit = positive('--limit', values.limit ?? process.env.DEMO_LIMIT)
  const waveSize = positive('--wave', values.wave)

  const stack = await waitForLocalStack({
    onWait: (reason) => process.stderr.write(`demo: waiting for the local stack (${reason})\n`),
  })
  const { demo } = stack
  const client = createDeliveryService({ baseUrl: stack.baseUrl, apiKey: demo.apiKey })
  const records = interleave(loadRecords(join(REPOSITORY_ROOT, 'data')), limit)
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`

  const bar = progressBar('demo', records.length)
  const result = await runDemo({
    client,
    fetch: (request) => fetch(request),
    peers: localStackPeers(demo.peers, (request) => fetch(request)),
    targets: {
      organizationId: demo.organizationId,
      destinations: {
        webhook: demo.destinations.webhook.id,
        storage: demo.destinations.storage.id,
        email: demo.destinations.email.id,
        download: demo.destinations.download.id,
      },
      webhookSecrets: [demo.webhook.secret],
    },
    records,
    runId,
    waveSize,
    onProgress: ({ phase, done }) => bar.update(done, phase),
  })
  bar.finish(result.ok ? 'verified' : 'with failures')
  process.stdout.write(formatReport(result, { baseUrl: stack.baseUrl }))
  return result.ok ? 0 : 1
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`demo: ${(error as Error).message}\n`)
    process.exitCode = 1
  },
)
