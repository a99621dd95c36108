/**
 * The local destinations of `npm start`, built from the shared test peers in
 * `test/peers/` (erasable TypeScript, which Node 24 runs as is): the verifying webhook
 * receiver, s3rver behind its SigV4-checking front, and the SMTP server with AUTH. Each
 * gets its fixed port through a TCP relay, and the viewer shows what they received.
 */
import { startS3Peer } from '../../test/peers/s3.ts'
import { startSmtpPeer } from '../../test/peers/smtp.ts'
import { startWebhookReceiver } from '../../test/peers/webhook-receiver.ts'
import { startTcpRelay } from './tcp-relay.mjs'
import { startViewer } from './viewer.mjs'

/** The bucket the demo storage destination writes to. */
export const DEMO_BUCKET = 'demo-audit-archive'
/** The SMTP user name the demo e-mail destination logs in with (the peer takes any). */
export const DEMO_SMTP_USER = 'demo'

async function closeAll(closables) {
  await Promise.allSettled(closables.map((each) => each.close()))
}

/** Starts the peers, their relays and the viewer; on any failure stops what started. */
export async function startLocalPeers({ host, ports, urls, log }) {
  const started = []
  const start = async (promise) => {
    const value = await promise
    started.unshift(value)
    return value
  }
  try {
    const [webhook, s3, smtp] = await Promise.all([
      start(startWebhookReceiver()),
      start(startS3Peer([DEMO_BUCKET])),
      start(startSmtpPeer()),
    ])
    await Promise.all([
      start(startTcpRelay(host, ports.webhookInbox, webhook.port)),
      start(startTcpRelay(host, ports.s3, s3.port)),
      start(startTcpRelay(host, ports.smtp, smtp.port)),
      start(
        startViewer({
          host,
          port: ports.viewer,
          inboxUrl: urls.webhookInbox,
          smtpAddress: `${host}:${ports.smtp}`,
          webhooks: () => webhook.requests,
          mail: () => smtp.messages,
        }),
      ),
    ])
    log(`local destinations listening: webhook inbox, S3, SMTP and the viewer`)
    return {
      s3: { bucket: DEMO_BUCKET, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      smtp: { username: DEMO_SMTP_USER, password: smtp.password },
      /** Makes the inbox verify requests to `path` with `secret` (401 when they do not verify). */
      trustWebhookSecret: (path, secret) => webhook.register(path, [secret]),
      close: () => closeAll(started),
    }
  } catch (error) {
    await closeAll(started)
    throw error
  }
}
