/**
 * Makes the demo organization ready to use: the organization, an API key, and one
 * destination of each type pointing at the local peers. Safe to run on every start: the
 * organization and destinations are found again (destinations by label), and the key in
 * `.local/demo.json` is reused while it still works.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

export const DEMO_ORGANIZATION = { id: 'demo-hospital', name: 'Demo Hospital' }

/** The destinations `npm start` keeps for the demo organization, keyed by type. */
export function demoDestinations({ urls, ports, host, s3, smtp, webhookSecret }) {
  const organizationId = DEMO_ORGANIZATION.id
  return {
    webhook: {
      label: 'Demo webhook inbox',
      type: 'webhook',
      description: 'The local webhook inbox; it verifies each signature',
      isDefault: true,
      config: {
        webhook: {
          url: `${urls.webhookInbox}/hooks/${organizationId}`,
          method: 'POST',
          headers: { 'X-Organization': organizationId },
          timeout: 10_000,
          secret: webhookSecret,
        },
      },
    },
    storage: {
      label: 'Demo S3 archive',
      type: 'storage',
      description: 'The local S3-compatible server (s3rver)',
      isDefault: true,
      config: {
        storage: {
          provider: 's3',
          config: {
            region: 'us-east-1',
            bucket: s3.bucket,
            endpoint: urls.s3,
            accessKeyId: s3.accessKeyId,
            secretAccessKey: s3.secretAccessKey,
            forcePathStyle: true,
          },
          path: 'audit-logs/{organizationId}/{year}/{month}/{day}',
          retention: { days: 2555, autoCleanup: false },
        },
      },
    },
    email: {
      label: 'Demo SMTP mail',
      type: 'email',
      description: 'The local SMTP server; read the mails in the mail viewer',
      isDefault: true,
      config: {
        email: {
          service: 'smtp',
          config: {
            host,
            port: ports.smtp,
            secure: 'none',
            username: smtp.username,
            password: smtp.password,
          },
          from: 'audit@demo-hospital.test',
          recipients: ['compliance@demo-hospital.test'],
          subject: '[Demo Hospital] Audit event {{delivery.type}}',
          bodyTemplate:
            'Audit event {{delivery.type}} for {{delivery.organizationId}}\nDelivery: {{delivery.id}} (sequence {{delivery.sequence}})\nAccepted: {{delivery.acceptedAt}}\n\nThe event is attached.\n',
        },
      },
    },
    download: {
      label: 'Demo download link',
      type: 'download',
      description: 'Expiring links served by the Worker at /v1/downloads',
      isDefault: true,
      config: { download: { expiresIn: 86_400, maxDownloads: 10 } },
    },
  }
}

/** A fresh Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes. */
export function newWebhookSecret() {
  return `whsec_${randomBytes(32).toString('base64')}`
}

/** Reads `.local/demo.json`, or null when it is absent or unreadable. */
export function readDemoState(path) {
  if (!existsSync(path)) return null
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch {
    return null
  }
}

function writeDemoState(path, state) {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
}

/** A step of the seed that failed, with the API's answer. */
export class SeedError extends Error {}

/** A small JSON client for the local API. */
function client(baseUrl) {
  return async (method, path, token, body) => {
    let response
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      })
    } catch (error) {
      throw new SeedError(`${method} ${path} got no answer: ${error.cause?.code ?? error.message}`)
    }
    const text = await response.text()
    let json = null
    try {
      json = text ? JSON.parse(text) : null
    } catch {
      json = null
    }
    return { status: response.status, json, text }
  }
}

function expectStatus(what, result, ...statuses) {
  if (statuses.includes(result.status)) return result
  const detail = result.json?.error?.message ?? result.text.slice(0, 300)
  throw new SeedError(`${what}: HTTP ${result.status} ${detail}`)
}

async function ensureOrganization(api, adminToken) {
  const { id, name } = DEMO_ORGANIZATION
  const created = await api('POST', '/v1/admin/organizations', adminToken, { id, name })
  expectStatus('create organization', created, 201, 409)
  if (created.status === 201) return 'created'
  const current = expectStatus(
    'read organization',
    await api('GET', `/v1/admin/organizations/${id}`, adminToken),
    200,
  )
  if (current.json.status !== 'disabled') return 'reused'
  expectStatus(
    'enable organization',
    await api('PATCH', `/v1/admin/organizations/${id}`, adminToken, { status: 'active' }),
    200,
  )
  return 'enabled again'
}

async function ensureApiKey(api, adminToken, previous) {
  const known = previous?.organizationId === DEMO_ORGANIZATION.id ? previous : null
  if (known?.apiKey && (await api('GET', '/v1/settings', known.apiKey)).status === 200)
    return { apiKey: known.apiKey, keyId: known.keyId, outcome: 'reused' }
  const issued = expectStatus(
    'issue API key',
    await api('POST', `/v1/admin/organizations/${DEMO_ORGANIZATION.id}/api-keys`, adminToken, {
      name: 'npm start demo',
    }),
    201,
  )
  return { apiKey: issued.json.key, keyId: issued.json.id, outcome: 'issued' }
}

async function findByLabel(api, apiKey, label) {
  const result = await api('GET', `/v1/destinations?label=${encodeURIComponent(label)}`, apiKey)
  expectStatus(`find destination "${label}"`, result, 200)
  return result.json.destinations.find((item) => item.label === label) ?? null
}

/**
 * Finds or creates each demo destination. One found by its label is brought back to the
 * definition above (a JSON merge patch of its config), so that a re-run repairs edits
 * and picks up changes to the demo. The webhook destination thereby always signs with
 * the secret in `wanted`, which the inbox is told to verify.
 */
async function ensureDestinations(api, apiKey, wanted, previous) {
  const destinations = {}
  for (const [type, body] of Object.entries(wanted)) {
    const found = await findByLabel(api, apiKey, body.label)
    if (!found) {
      const created = await api('POST', '/v1/destinations', apiKey, body)
      const id = expectStatus(`create destination "${body.label}"`, created, 201).json.id
      destinations[type] = { id, label: body.label, outcome: 'created' }
      continue
    }
    const { description, isDefault, config } = body
    const updated = await api('PATCH', `/v1/destinations/${found.id}`, apiKey, {
      description,
      isDefault,
      config,
    })
    expectStatus(`update destination "${body.label}"`, updated, 200)
    const newSecret = type === 'webhook' && previous?.webhook?.destinationId !== found.id
    destinations[type] = {
      id: found.id,
      label: body.label,
      outcome: newSecret ? 'reused, new secret' : 'reused',
    }
  }
  return destinations
}

/**
 * Runs the whole seed against the API at `baseUrl` and writes `.local/demo.json`.
 * Returns what it did; throws a SeedError with the failing step's answer.
 */
export async function seedDemo({ baseUrl, adminToken, statePath, peers }) {
  const api = client(baseUrl)
  const previous = readDemoState(statePath)
  const organization = await ensureOrganization(api, adminToken)
  const key = await ensureApiKey(api, adminToken, previous)

  const state = {
    baseUrl,
    organizationId: DEMO_ORGANIZATION.id,
    apiKey: key.apiKey,
    keyId: key.keyId,
    destinations: {},
    webhook: null,
    peers: {
      webhookInbox: `${peers.urls.webhookInbox}/hooks/${DEMO_ORGANIZATION.id}`,
      webhookViewer: `${peers.urls.viewer}/webhooks.json`,
      mailViewer: `${peers.urls.viewer}/mail.json`,
      smtp: { host: peers.host, port: peers.ports.smtp, ...peers.smtp },
      s3: { endpoint: peers.urls.s3, ...peers.s3 },
    },
  }
  // Saved before the destinations too, so that a failure there does not lose the key.
  writeDemoState(statePath, state)

  const webhookSecret = previous?.webhook?.secret ?? newWebhookSecret()
  const wanted = demoDestinations({ ...peers, webhookSecret })
  state.destinations = await ensureDestinations(api, key.apiKey, wanted, previous)
  state.webhook = { destinationId: state.destinations.webhook.id, secret: webhookSecret }
  writeDemoState(statePath, state)
  return { organization, key: key.outcome, state }
}
