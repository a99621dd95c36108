/**
 * What the examples need around the seed's code to run on this machine against the
 * local stack of `npm start`:
 *
 * - the seed's outside addresses mapped onto the local peers, each in one visible call:
 *   `local.webhookUrl('https://api.hospital-a.com/audit-webhook')` becomes the local
 *   inbox at `/hooks/api.hospital-a.com/audit-webhook`; `local.s3({ bucket, … })` keeps
 *   the seed's bucket name and settings and adds the local S3 endpoint and its keys
 *   (the bucket is created there if missing); `local.email({ service: 'ses', … })` keeps
 *   from, recipients, subject, body and encryption and sends through the local SMTP
 *   server instead of SES or SendGrid (which need the internet);
 * - the seed's organizations created through the admin API, each with an API key issued
 *   for this run (and revoked when it ends);
 * - `instrument(service)`: a re-run finds the destinations the last run created by
 *   their label and updates them instead of failing on the taken label, and every
 *   delivery accepted is remembered with its payload;
 * - `verifySent()`: waits until each of those deliveries settles and checks each
 *   artifact where it landed, so that every example ends with a summary it checked.
 */

import {
  type CreateDestinationRequest,
  createDeliveryService,
  type Delivery,
  type DeliveryService,
  DeliveryServiceError,
  type Destination,
} from 'audit-delivery-service/client'
import { AwsClient } from 'aws4fetch'
import { type ArtifactCheck, checkArtifacts } from '../../scripts/demo/artifacts.ts'
import type { SentPayload } from '../../scripts/demo/envelope.ts'
import { waitForLocalStack } from '../../scripts/demo/local-stack.ts'
import { localStackPeers } from '../../scripts/demo/peers.ts'

type EmailConfig = NonNullable<CreateDestinationRequest['config']['email']>
type StorageConfig = NonNullable<CreateDestinationRequest['config']['storage']>
type S3Config = Extract<StorageConfig, { provider: 's3' }>['config']

/** A fresh Standard Webhooks secret (`whsec_` and 32 random bytes in base64). */
function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return `whsec_${btoa(String.fromCharCode(...bytes))}`
}

/** A delivery an instrumented client accepted, and the client that can read it. */
interface SentDelivery {
  service: DeliveryService
  deliveryId: string
  organizationId: string | undefined
  payload: SentPayload
}

/** Deliveries followed at once while checking. */
const CHECK_CONCURRENCY = 8
/** How long the deliveries of a run may take to settle, all together. */
const SETTLE_TIMEOUT_MS = 120_000

export interface VerifySummary {
  deliveries: number
  delivered: number
  artifacts: number
  verified: number
  /** One line per destination: how many of its artifacts were found exactly as sent. */
  perDestination: string[]
  failures: string[]
}

export async function connectLocalStack(scenario: string) {
  const stack = await waitForLocalStack({
    onWait: (reason) =>
      process.stderr.write(`${scenario}: waiting for the local stack (${reason})\n`),
  })
  const { peers: addresses } = stack.demo
  const peers = localStackPeers(addresses, (request) => fetch(request))
  const admin = createDeliveryService({ baseUrl: stack.baseUrl, adminToken: stack.adminToken })
  const issued: Array<{ organizationId: string; keyId: string }> = []
  /** Webhook secrets of the destinations this run created or refreshed, by destination id. */
  const webhookSecrets = new Map<string, string[]>()
  const inbox = new URL(addresses.webhookInbox).origin
  const s3 = new AwsClient({
    accessKeyId: addresses.s3.accessKeyId,
    secretAccessKey: addresses.s3.secretAccessKey,
    service: 's3',
    region: 'us-east-1',
  })
  const keyName = `example ${scenario}`
  const sent = new Map<string, SentDelivery>()
  const serviceFor = (delivery: Delivery) => (sent.get(delivery.deliveryId) as SentDelivery).service

  const local = {
    baseUrl: stack.baseUrl,
    peers,

    /** The seed's webhook URL as a path on the local inbox. */
    webhookUrl(seedUrl: string): string {
      const url = new URL(seedUrl)
      return `${inbox}/hooks/${url.host}${url.pathname}`
    },

    /** The seed's S3 settings, written to the local S3 server. */
    s3(seed: S3Config): S3Config {
      return {
        ...seed,
        endpoint: addresses.s3.endpoint,
        accessKeyId: addresses.s3.accessKeyId,
        secretAccessKey: addresses.s3.secretAccessKey,
        forcePathStyle: true,
      }
    },

    /** The seed's e-mail destination, sent through the local SMTP server. */
    email(seed: EmailConfig): EmailConfig {
      const { service: _service, config: _config, apiKey: _apiKey, ...message } = seed
      const { smtp } = stack.demo.peers
      return {
        ...message,
        service: 'smtp',
        config: {
          host: smtp.host,
          port: smtp.port,
          secure: 'none',
          username: smtp.username,
          password: smtp.password,
        },
      }
    },

    /** Creates the buckets on the local S3 server when they do not exist yet. */
    async ensureBuckets(names: string[]): Promise<void> {
      for (const name of names) {
        const url = `${addresses.s3.endpoint}/${name}`
        const head = await fetch(await s3.sign(url, { method: 'HEAD' }))
        if (head.ok) continue
        const created = await fetch(await s3.sign(url, { method: 'PUT' }))
        if (!created.ok)
          throw new Error(
            `creating bucket ${name} on the local S3: HTTP ${created.status} ${await created.text()}`,
          )
      }
    },

    /**
     * Makes sure each organization exists and is active, and issues an API key for this
     * run. Keys an earlier run of this example left behind are revoked first.
     */
    async provision(organizations: Array<{ id: string; name: string }>) {
      const apiKeys: Record<string, string> = {}
      for (const organization of organizations) {
        try {
          await admin.createOrganization(organization)
        } catch (error) {
          if (!(error instanceof DeliveryServiceError && error.code === 'organization_exists'))
            throw error
          const current = await admin.getOrganization(organization.id)
          if (current.status === 'disabled') await admin.enableOrganization(organization.id)
        }
        for (const key of await admin.listApiKeys(organization.id))
          if (key.name === keyName && key.revokedAt === null)
            await admin.revokeApiKey(organization.id, key.id)
        const key = await admin.issueApiKey(organization.id, { name: keyName })
        issued.push({ organizationId: organization.id, keyId: key.id })
        apiKeys[organization.id] = key.key
      }
      return apiKeys
    },

    /**
     * The same client, with two additions for running the seed's code here. Its
     * `createDestination` first looks for a destination with the same label, and when
     * there is one updates it to the given definition instead of failing on the taken
     * label; a webhook gets a fresh signing secret either way, so that the checks can
     * verify what the inbox received. And every delivery it has accepted is remembered
     * with the payload it sent, for `verifySent`.
     */
    instrument(service: DeliveryService): DeliveryService {
      const createDestination = async (input: CreateDestinationRequest): Promise<Destination> => {
        const scope = { organizationId: input.organizationId }
        const webhook = input.config.webhook
        const secret = webhook ? (webhook.secret ?? newWebhookSecret()) : undefined
        const wanted = webhook ? { ...input, config: { webhook: { ...webhook, secret } } } : input
        const found = await service.findDestinationByLabel(input.label, scope)
        const destination = found
          ? await service.updateDestination(found.id, wanted, scope)
          : await service.createDestination(wanted)
        if (secret) webhookSecrets.set(destination.id, [secret])
        return destination
      }
      const deliver: DeliveryService['deliver'] = async (input) => {
        const receipt = await service.deliver(input)
        const { deliveryId, organizationId } = receipt
        sent.set(deliveryId, { service, deliveryId, organizationId, payload: input.payload })
        return receipt
      }
      const deliverBatch: DeliveryService['deliverBatch'] = async (items, scope) => {
        const answer = await service.deliverBatch(items, scope)
        for (const result of answer.results) {
          const item = items[result.index]
          if (!result.deliveryId || result.status === 'rejected' || !item) continue
          sent.set(result.deliveryId, {
            service,
            deliveryId: result.deliveryId,
            organizationId: scope?.organizationId ?? item.organizationId,
            payload: item.payload,
          })
        }
        return answer
      }
      return { ...service, createDestination, deliver, deliverBatch }
    },

    /** The deliveries the instrumented clients have accepted so far, with their payloads. */
    sentDeliveries: () =>
      [...sent.values()].map(({ deliveryId, organizationId, payload }) => ({
        deliveryId,
        organizationId,
        payload,
      })),

    /**
     * Waits until every delivery the instrumented clients accepted has settled (for at
     * most `SETTLE_TIMEOUT_MS` in all), then checks every artifact where it landed; a
     * delivery still unsettled then is reported with its destinations' status.
     * `onProgress` hears how many are done.
     */
    async verifySent(onProgress?: (done: number, total: number) => void): Promise<VerifySummary> {
      const total = sent.size * 2
      const deadline = Date.now() + SETTLE_TIMEOUT_MS
      const settled: Array<{ delivery: Delivery; payload: SentPayload }> = []
      await inPool([...sent.values()], CHECK_CONCURRENCY, async (each) => {
        const delivery = await each.service
          .waitForDelivery(each.deliveryId, {
            organizationId: each.organizationId,
            timeoutMs: Math.max(0, deadline - Date.now()),
            intervalMs: 500,
          })
          .catch((error: unknown) => {
            const last = (error as DeliveryServiceError).details as
              | { delivery?: Delivery }
              | undefined
            if ((error as DeliveryServiceError).code !== 'timeout' || !last?.delivery) throw error
            return last.delivery
          })
        settled.push({ delivery, payload: each.payload })
        onProgress?.(settled.length, total)
      })
      const destinations = new Map<string, Destination>()
      for (const { delivery } of settled)
        for (const target of delivery.destinations)
          if (!destinations.has(target.destinationId))
            destinations.set(
              target.destinationId,
              await serviceFor(delivery).getDestination(target.destinationId, {
                organizationId: delivery.organizationId,
              }),
            )
      const checks: ArtifactCheck[] = []
      // Everything has settled: what the peers hold now is read once per path and recipient.
      const context = {
        fetch: (request: Request) => fetch(request),
        peers: {
          ...peers,
          webhookRequests: memoize((path: string) => peers.webhookRequests(path)),
          mails: memoize((recipient: string) => peers.mails(recipient)),
        },
        destinations,
        webhookSecrets,
      }
      let checked = 0
      await inPool(chunks(settled, 25), CHECK_CONCURRENCY, async (chunk) => {
        checks.push(...(await checkArtifacts(context, chunk)))
        checked += chunk.length
        onProgress?.(settled.length + checked, total)
      })
      return summarize(settled, checks, destinations)
    },

    /** Revokes the keys this run issued. */
    async close(): Promise<void> {
      for (const { organizationId, keyId } of issued)
        await admin.revokeApiKey(organizationId, keyId)
    },
  }
  return local
}

export type LocalStack = Awaited<ReturnType<typeof connectLocalStack>>

function memoize<T>(load: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const seen = new Map<string, Promise<T>>()
  return (key) => {
    const known = seen.get(key)
    if (known) return known
    const loaded = load(key)
    seen.set(key, loaded)
    return loaded
  }
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function inPool<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const item = items[next] as T
      next += 1
      await work(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

function chunks<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, index) =>
    items.slice(index * size, (index + 1) * size),
  )
}

function summarize(
  settled: Array<{ delivery: Delivery }>,
  checks: ArtifactCheck[],
  destinations: ReadonlyMap<string, Destination>,
): VerifySummary {
  const byDestination = new Map<string, { verified: number; total: number }>()
  for (const check of checks) {
    const tally = byDestination.get(check.destinationId) ?? { verified: 0, total: 0 }
    tally.total += 1
    if (check.ok) tally.verified += 1
    byDestination.set(check.destinationId, tally)
  }
  return {
    deliveries: settled.length,
    delivered: settled.filter(({ delivery }) => delivery.status === 'delivered').length,
    artifacts: checks.length,
    verified: checks.filter((check) => check.ok).length,
    perDestination: [...byDestination]
      .map(([id, tally]) => {
        const destination = destinations.get(id)
        return `${destination?.organizationId} "${destination?.label}" (${destination?.type}): ${tally.verified} of ${tally.total} verified`
      })
      .sort(),
    failures: checks
      .filter((check) => !check.ok)
      .map(
        (check) => `${check.deliveryId} → ${check.type} ${check.destinationId}: ${check.detail}`,
      ),
  }
}

/** Prints what was checked; sets a failing exit code when anything was not verified. */
export function reportChecks(title: string, summary: VerifySummary, details: string[] = []): void {
  const ok = summary.failures.length === 0 && summary.verified === summary.artifacts
  const lines = [
    '',
    `${title}: ${ok ? 'CHECKED' : 'FAILED'}`,
    ...details.map((line) => `  ${line}`),
    `  ${summary.delivered} of ${summary.deliveries} deliveries delivered; ${summary.verified} of ${summary.artifacts} artifacts found exactly as sent:`,
    ...summary.perDestination.map((line) => `    ${line}`),
    ...summary.failures.map((failure) => `  ✗ ${failure}`),
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
  if (!ok) process.exitCode = 1
}
