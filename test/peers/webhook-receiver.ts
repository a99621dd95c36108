/**
 * A webhook receiver that checks every request as a careful receiver would: the Standard
 * Webhooks signature is verified with the `standardwebhooks` package against each secret
 * registered for the path. A request whose signature does not verify under the first
 * registered secret is answered 401. Paths without a registered secret accept anything.
 *
 * Control routes besides those of `http-peer.ts`:
 * - `POST /__peer/endpoints` `{ path, secrets: ["whsec_…", …] }`: register secrets for a path;
 *   each recorded request then carries `check.verified`, one boolean per secret.
 */
import { Webhook } from 'standardwebhooks'
import { type HttpPeer, json, type PeerRequest, startHttpPeer } from './http-peer.ts'

export interface WebhookReceiver extends HttpPeer {
  /** Registers the secrets a path verifies with (same as the control route). */
  register(path: string, secrets: string[]): void
}

function verifyAll(secrets: string[], request: PeerRequest): boolean[] {
  return secrets.map((secret) => {
    try {
      new Webhook(secret).verify(request.body.toString('utf8'), request.headers)
      return true
    } catch {
      return false
    }
  })
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const secretsByPath = new Map<string, string[]>()

  const peer = await startHttpPeer(
    (request) => {
      const secrets = secretsByPath.get(request.path)
      if (!secrets) return { ...json(200, { received: true }), check: null }
      const verified = verifyAll(secrets, request)
      const check = { ok: verified[0] === true, details: { verified } }
      if (!check.ok) return { ...json(401, { error: 'invalid signature' }), check }
      return { ...json(200, { received: true }), check }
    },
    {
      control: (request) => {
        if (request.url.pathname !== '/__peer/endpoints' || request.method !== 'POST') return null
        const input = JSON.parse(request.body.toString('utf8')) as {
          path: string
          secrets: string[]
        }
        secretsByPath.set(input.path, input.secrets)
        return { status: 204 }
      },
    },
  )
  return { ...peer, register: (path, secrets) => secretsByPath.set(path, secrets) }
}
