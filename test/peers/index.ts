/**
 * Starts every real peer on 127.0.0.1 (ephemeral ports) and describes where they listen.
 * Used by the test global setup (which hands `PeerAddresses` to tests through `inject`)
 * and by `npm start`, so it must run under plain Node 24: erasable TypeScript only.
 */
import { startPostmarkPeer } from './postmark.ts'
import { startResendPeer } from './resend.ts'
import { startS3Peer } from './s3.ts'
import { startSendGridPeer } from './sendgrid.ts'
import { startSesPeer } from './ses.ts'
import { startSmtpPeer } from './smtp.ts'
import { startWebhookReceiver } from './webhook-receiver.ts'

/** Buckets the S3 peer creates on start. */
export const TEST_BUCKETS = ['audit-archive', 'audit-shared']

/** Plain data (it crosses into workerd): where each peer listens and its credentials. */
export interface PeerAddresses {
  webhook: { url: string }
  s3: { url: string; accessKeyId: string; secretAccessKey: string; buckets: string[] }
  smtp: { host: string; port: number; password: string; controlUrl: string }
  ses: { url: string; accessKeyId: string; secretAccessKey: string }
  sendgrid: { url: string; apiKey: string }
  resend: { url: string; apiKey: string }
  postmark: { url: string; serverToken: string }
}

export interface RunningPeers {
  addresses: PeerAddresses
  close(): Promise<void>
}

export async function startPeers(): Promise<RunningPeers> {
  const [webhook, s3, smtp, ses, sendgrid, resend, postmark] = await Promise.all([
    startWebhookReceiver(),
    startS3Peer(TEST_BUCKETS),
    startSmtpPeer(),
    startSesPeer(),
    startSendGridPeer(),
    startResendPeer(),
    startPostmarkPeer(),
  ])
  return {
    addresses: {
      webhook: { url: webhook.url },
      s3: {
        url: s3.url,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        buckets: s3.buckets,
      },
      smtp: {
        host: smtp.host,
        port: smtp.port,
        password: smtp.password,
        controlUrl: smtp.control.url,
      },
      ses: { url: ses.url, accessKeyId: ses.accessKeyId, secretAccessKey: ses.secretAccessKey },
      sendgrid: { url: sendgrid.url, apiKey: sendgrid.apiKey },
      resend: { url: resend.url, apiKey: resend.apiKey },
      postmark: { url: postmark.url, serverToken: postmark.serverToken },
    },
    close: async () => {
      await Promise.all(
        [webhook, s3, smtp, ses, sendgrid, resend, postmark].map((peer) => peer.close()),
      )
    },
  }
}
