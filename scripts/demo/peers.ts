/**
 * Where the demo reads what arrived: the webhook inbox's record of requests, the mails
 * the SMTP server accepted, and the S3 server (read with signed requests, like any S3
 * client). `npm start`'s peers are reached on their fixed ports; the tests pass their own.
 */
import type { FetchLike } from '../../src/client/index.ts'
import type { RecordedRequest } from '../../test/peers/http-peer.ts'
import type { CapturedMail } from '../../test/peers/smtp.ts'

export type { CapturedMail, RecordedRequest }

export interface S3Access {
  endpoint: string
  accessKeyId: string
  secretAccessKey: string
  region: string
}

export interface DemoPeers {
  /** Every request the webhook inbox recorded at exactly `path`, oldest first. */
  webhookRequests(path: string): Promise<RecordedRequest[]>
  /** The mails the SMTP server accepted for `recipient`. */
  mails(recipient: string): Promise<CapturedMail[]>
  /** Credentials of the S3 server the storage destinations write to. */
  s3: S3Access
}

async function getJson<T>(fetcher: FetchLike, url: string): Promise<T> {
  const response = await fetcher(new Request(url, { signal: AbortSignal.timeout(30_000) }))
  const body = await response.text()
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status} ${body.slice(0, 200)}`)
  return JSON.parse(body) as T
}

/** What `npm start` writes to `.local/demo.json` about its peers. */
export interface LocalPeerAddresses {
  webhookInbox: string
  mailViewer: string
  s3: { endpoint: string; accessKeyId: string; secretAccessKey: string }
}

/**
 * The local stack's peers: the inbox's own record (`/__peer/requests` on its port) and
 * the viewer's `mail.json?to=`, every mail for a recipient.
 */
export function localStackPeers(addresses: LocalPeerAddresses, fetcher: FetchLike): DemoPeers {
  const inbox = new URL(addresses.webhookInbox).origin
  return {
    async webhookRequests(path) {
      const url = `${inbox}/__peer/requests?path=${encodeURIComponent(path)}`
      return (await getJson<{ requests: RecordedRequest[] }>(fetcher, url)).requests
    },
    async mails(recipient) {
      const url = `${addresses.mailViewer}?to=${encodeURIComponent(recipient)}`
      const { messages } = await getJson<{ messages: CapturedMail[] }>(fetcher, url)
      const wanted = recipient.toLowerCase()
      return messages.filter((mail) =>
        mail.envelope.rcptTo.some((address) => address.toLowerCase() === wanted),
      )
    },
    s3: { ...addresses.s3, region: 'us-east-1' },
  }
}
