import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import type { DemoPeers } from '../../scripts/demo/peers.ts'
import { formatReport } from '../../scripts/demo/report.ts'
import { type DemoTargets, runDemo } from '../../scripts/demo/run.ts'
import type { DeliveryService } from '../../src/client/index.ts'
import { SERVICE_URL, tenantClient, workerFetch } from '../client/harness'
import { createWebhookDestination, WEBHOOK_SECRET } from '../support/delivery-helpers'
import { peers, recorded, smtpMessages, uniqueRecipient } from '../support/peers'
import { sliceRecords } from './slice'

/** The test peers, as the demo reads them. */
function testPeers(): DemoPeers {
  const { webhook, s3 } = peers()
  return {
    webhookRequests: (path) => recorded(webhook.url, { path }),
    mails: (recipient) => smtpMessages(recipient),
    s3: {
      endpoint: s3.url,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      region: 'us-east-1',
    },
  }
}

/** The service's download links name PUBLIC_BASE_URL; in the test the Worker answers them. */
function demoFetch() {
  const toWorker = workerFetch()
  const publicOrigin = new URL(env.PUBLIC_BASE_URL).origin
  return (request: Request) => {
    const url = new URL(request.url)
    if (url.origin !== publicOrigin) return toWorker(request)
    return toWorker(new Request(`${SERVICE_URL}${url.pathname}${url.search}`, request))
  }
}

/** A tenant with one destination of each type on the test peers, as `npm start` makes them. */
async function demoTenant(options: { bucket?: string } = {}) {
  const { client, organizationId, apiKey } = await tenantClient('demo')
  const { s3, smtp } = peers()
  const hook = await createWebhookDestination(apiKey, { label: 'Demo webhook inbox' })
  const storage = await client.createDestination({
    label: 'Demo S3 archive',
    type: 'storage',
    config: {
      storage: {
        provider: 's3',
        config: {
          bucket: options.bucket ?? 'audit-archive',
          endpoint: s3.url,
          accessKeyId: s3.accessKeyId,
          secretAccessKey: s3.secretAccessKey,
        },
        path: 'audit-logs/{organizationId}/{year}/{month}/{day}',
      },
    },
  })
  const email = await client.createDestination({
    label: 'Demo SMTP mail',
    type: 'email',
    config: {
      email: {
        service: 'smtp',
        config: {
          host: smtp.host,
          port: smtp.port,
          secure: 'none',
          username: 'demo',
          password: smtp.password,
        },
        from: 'audit@demo-hospital.test',
        recipients: [uniqueRecipient('compliance')],
        subject: '[Demo Hospital] Audit event {{eventType}}',
      },
    },
  })
  const download = await client.createDestination({
    label: 'Demo download link',
    type: 'download',
    config: { download: {} },
  })
  const targets: DemoTargets = {
    organizationId,
    destinations: { webhook: hook.id, storage: storage.id, email: email.id, download: download.id },
    webhookSecrets: [WEBHOOK_SECRET],
  }
  return { client, targets }
}

function demo(client: DeliveryService, targets: DemoTargets) {
  return runDemo({
    client,
    fetch: demoFetch(),
    peers: testPeers(),
    targets,
    records: sliceRecords(),
    runId: `t${crypto.randomUUID().slice(0, 8)}`,
    pollIntervalMs: 100,
    settleTimeoutMs: 25_000,
  })
}

describe('npm run demo on a slice of the real records', () => {
  it('Should deliver every record to all four destination types and verify every artifact', async () => {
    const { client, targets } = await demoTenant()
    const result = await demo(client, targets)
    expect(result.failures).toEqual([])
    expect(result).toMatchObject({
      records: 6,
      bySource: { 'hl7-r4': 1, 'hl7-r5': 1, 'ihe-balp': 1, cloudtrail: 2, kubernetes: 1 },
      accepted: 6,
      delivered: { webhook: 6, storage: 6, email: 6, download: 6 },
      verified: { webhook: 6, storage: 6, email: 6, download: 6 },
      ok: true,
    })
    expect(result.latency.all.count).toBe(24)
    expect(result.latency.all.p95).toBeGreaterThanOrEqual(result.latency.all.p50)

    const report = formatReport(result, { baseUrl: SERVICE_URL })
    expect(report).toContain('FHIR AuditEvent, HL7 R4 examples')
    expect(report).toContain('Accepted: 6 of 6')
    expect(report.trimEnd().split('\n').at(-1)).toMatch(
      /^Delivered and verified 24 of 24 artifacts \(6 records × 4 destination types\) in [\d.]+ s: nothing lost\.$/,
    )
  })

  it('Should report every webhook as unverified when the signature does not verify', async () => {
    const { client, targets } = await demoTenant()
    const result = await demo(client, {
      ...targets,
      webhookSecrets: ['whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD'],
    })
    expect(result.ok).toBe(false)
    expect(result.delivered.webhook).toBe(6)
    expect(result.verified).toEqual({ webhook: 0, storage: 6, email: 6, download: 6 })
    expect(result.failures).toHaveLength(6)
    expect(result.failures[0]).toEqual({
      record: 'fhir-auditevents/hl7-r4/AuditEvent-example-rest.json#0',
      type: 'webhook',
      deliveryId: expect.stringMatching(/^dlv_/),
      reason: 'signature invalid: No matching signature found',
    })
    expect(formatReport(result, { baseUrl: SERVICE_URL }).trimEnd().split('\n').at(-1)).toBe(
      'NOT VERIFIED: delivered and verified 18 of 24 artifacts; 6 lost or unverified (see failures).',
    )
  })

  it('Should report the records a destination failed to take as lost', async () => {
    const { client, targets } = await demoTenant({ bucket: 'no-such-bucket' })
    await client.updateSettings({ retry: { maxAttempts: 1 } })
    const result = await demo(client, targets)
    expect(result.ok).toBe(false)
    expect(result.delivered.storage).toBe(0)
    expect(result.verified).toEqual({ webhook: 6, storage: 0, email: 6, download: 6 })
    expect(result.failures.map((failure) => [failure.type, failure.reason.split(':')[0]])).toEqual(
      Array.from({ length: 6 }, () => ['storage', 'failed']),
    )
  })
})
