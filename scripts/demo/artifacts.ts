/**
 * Checks that what each destination holds is exactly what was sent: the webhook inbox
 * got the envelope with a valid Standard Webhooks signature, the S3 object at the key the
 * service reported has the envelope's bytes, the mail arrived with its rendered subject
 * (and the envelope attached), and the download link serves the envelope.
 */
import { AwsClient } from 'aws4fetch'
import {
  type Delivery,
  type DeliveryTarget,
  type Destination,
  type FetchLike,
  verifyWebhookSignature,
} from '../../src/client/index.ts'
import { expectedEnvelope, expectedSubject, type SentPayload } from './envelope.ts'
import type { CapturedMail, DemoPeers, RecordedRequest } from './peers.ts'

export type DestinationType = Destination['type']

export interface ArtifactCheck {
  deliveryId: string
  destinationId: string
  type: DestinationType
  ok: boolean
  /** What was checked, or why the check failed. */
  detail: string
}

export interface ArtifactContext {
  fetch: FetchLike
  peers: DemoPeers
  /** The destinations the deliveries went to, by id. */
  destinations: ReadonlyMap<string, Destination>
  /** Webhook secrets by destination id (the API shows them masked). */
  webhookSecrets: ReadonlyMap<string, readonly string[]>
}

interface Expected {
  delivery: Delivery
  target: DeliveryTarget
  envelope: string
  payload: SentPayload
  destination: Destination
}

type Outcome = { ok: true; detail: string } | { ok: false; detail: string }
const pass = (detail: string): Outcome => ({ ok: true, detail })
const fail = (detail: string): Outcome => ({ ok: false, detail })

type Config<K extends string> = Record<K, Record<string, unknown>>
const configOf = <K extends DestinationType>(destination: Destination, type: K) =>
  (destination.config as Partial<Config<K>>)[type] ?? {}

function decodeBase64(value: string): string {
  const bytes = Uint8Array.from(atob(value), (char) => char.charCodeAt(0))
  return new TextDecoder().decode(bytes)
}

/** Memoises peer reads per key within one round of checks. */
function cached<T>(load: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const seen = new Map<string, Promise<T>>()
  return (key) => {
    let value = seen.get(key)
    if (!value) {
      value = load(key)
      seen.set(key, value)
    }
    return value
  }
}

function checkWebhook(
  expected: Expected,
  requests: RecordedRequest[],
  secrets: readonly string[] | undefined,
): Outcome {
  const mine = requests.filter(
    (request) => request.headers['webhook-id'] === expected.target.messageId,
  )
  const answered = mine.filter((request) => request.status !== null && request.status < 300).at(-1)
  if (!answered) return fail(`no accepted request with webhook-id ${expected.target.messageId}`)
  if (!secrets || secrets.length === 0)
    return fail('no webhook secret to verify the signature with')
  try {
    verifyWebhookSignature({
      body: answered.body,
      headers: answered.headers,
      secrets,
      receivedAt: answered.receivedAt,
    })
  } catch (error) {
    return fail(`signature invalid: ${(error as Error).message}`)
  }
  if (answered.body !== expected.envelope)
    return fail('request body differs from the envelope sent')
  return pass(`signature valid, body equals the envelope (${answered.body.length} bytes)`)
}

async function checkStorage(context: ArtifactContext, expected: Expected): Promise<Outcome> {
  const storage = configOf(expected.destination, 'storage')
  const s3 = (storage.config ?? {}) as { bucket?: string; endpoint?: string; region?: string }
  const key = expected.target.reference?.objectKey
  if (storage.provider !== 's3') return fail('only S3 storage can be read back by the demo')
  if (!key) return fail('the delivery reports no object key')
  const client = new AwsClient({
    accessKeyId: context.peers.s3.accessKeyId,
    secretAccessKey: context.peers.s3.secretAccessKey,
    service: 's3',
    region: s3.region ?? context.peers.s3.region,
  })
  const endpoint = (s3.endpoint ?? context.peers.s3.endpoint).replace(/\/+$/, '')
  const path = [s3.bucket ?? '', ...key.split('/')].map(encodeURIComponent).join('/')
  const request = await client.sign(`${endpoint}/${path}`, { method: 'GET' })
  const response = await context.fetch(request)
  const body = await response.text()
  if (response.status !== 200) return fail(`GET s3://${s3.bucket}/${key}: HTTP ${response.status}`)
  if (body !== expected.envelope)
    return fail(`object s3://${s3.bucket}/${key} differs from the envelope`)
  return pass(`object s3://${s3.bucket}/${key} equals the envelope`)
}

function headerValue(mail: CapturedMail, name: string): string | undefined {
  const line = mail.headerLines.find((header) => header.key === name.toLowerCase())?.line
  return line?.slice(line.indexOf(':') + 1).trim()
}

function checkEmail(expected: Expected, mails: CapturedMail[]): Outcome {
  const email = configOf(expected.destination, 'email') as {
    subject?: string
    encryption?: { enabled?: boolean }
  }
  const { deliveryId } = expected.delivery
  const mail = mails.find((each) => headerValue(each, 'x-audit-delivery-id') === deliveryId)
  if (!mail) return fail(`no mail with X-Audit-Delivery-Id ${deliveryId}`)
  const subject = expectedSubject(email.subject ?? '', expected.delivery, expected.payload)
  if (mail.subject !== subject)
    return fail(`subject ${JSON.stringify(mail.subject)}, expected ${JSON.stringify(subject)}`)
  if (email.encryption?.enabled) {
    const sealed = mail.attachments.find((file) => file.filename === `${deliveryId}.encrypted.json`)
    if (!sealed) return fail(`no ${deliveryId}.encrypted.json attachment`)
    return pass(`mail "${subject}" with the envelope attached, encrypted`)
  }
  const attached = mail.attachments.find((file) => file.filename === `${deliveryId}.json`)
  if (!attached) return fail(`no ${deliveryId}.json attachment`)
  if (decodeBase64(attached.contentBase64) !== expected.envelope)
    return fail('the attached envelope differs from the one sent')
  return pass(`mail "${subject}" with the envelope attached`)
}

async function checkDownload(context: ArtifactContext, expected: Expected): Promise<Outcome> {
  const url = expected.target.reference?.downloadUrl
  if (!url) return fail('the delivery reports no download link')
  const response = await context.fetch(new Request(url, { signal: AbortSignal.timeout(30_000) }))
  const body = await response.text()
  if (response.status !== 200) return fail(`GET download link: HTTP ${response.status}`)
  if (body !== expected.envelope) return fail('the download differs from the envelope')
  return pass(`download link serves the envelope (${body.length} bytes)`)
}

/**
 * Checks every destination of every given delivery (each delivered, then its artifact).
 * Peer records are read once per webhook path and mail recipient.
 */
export async function checkArtifacts(
  context: ArtifactContext,
  sent: ReadonlyArray<{ delivery: Delivery; payload: SentPayload }>,
): Promise<ArtifactCheck[]> {
  const requestsAt = cached((path) => context.peers.webhookRequests(path))
  const mailFor = cached((recipient) => context.peers.mails(recipient))

  const one = async (
    delivery: Delivery,
    target: DeliveryTarget,
    payload: SentPayload,
  ): Promise<Outcome> => {
    if (target.status !== 'delivered')
      return fail(`${target.status}${target.lastError ? `: ${target.lastError.message}` : ''}`)
    const destination = context.destinations.get(target.destinationId)
    if (!destination) return fail(`destination ${target.destinationId} is unknown to the check`)
    const expected = {
      delivery,
      target,
      payload,
      destination,
      envelope: expectedEnvelope(delivery, payload),
    }
    switch (target.type) {
      case 'webhook': {
        const url = String(configOf(destination, 'webhook').url ?? '')
        const requests = await requestsAt(new URL(url).pathname)
        return checkWebhook(expected, requests, context.webhookSecrets.get(destination.id))
      }
      case 'storage':
        return checkStorage(context, expected)
      case 'email': {
        const recipients = configOf(destination, 'email').recipients as string[] | undefined
        return checkEmail(expected, await mailFor(recipients?.[0] ?? ''))
      }
      case 'download':
        return checkDownload(context, expected)
    }
  }

  const checks = sent.flatMap(({ delivery, payload }) =>
    delivery.destinations.map(async (target) => {
      const outcome = await one(delivery, target, payload).catch((error: unknown) =>
        fail(`check failed: ${(error as Error).message}`),
      )
      return {
        deliveryId: delivery.deliveryId,
        destinationId: target.destinationId,
        type: target.type,
        ...outcome,
      }
    }),
  )
  return Promise.all(checks)
}
