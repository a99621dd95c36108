/**
 * What `npm start` leaves for the programs that use the local stack: the admin token in
 * `.dev.vars`, and in `.local/demo.json` the demo organization's key, its four
 * destinations, the webhook secret and the peers' addresses. Node only.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseEnv } from 'node:util'
import type { FetchLike } from '../../src/client/index.ts'
import type { DestinationType } from './artifacts.ts'
import type { LocalPeerAddresses } from './peers.ts'

/** The repository root (this file is scripts/demo/local-stack.ts). */
export const REPOSITORY_ROOT = join(import.meta.dirname, '..', '..')

export interface DemoState {
  baseUrl: string
  organizationId: string
  apiKey: string
  destinations: Record<DestinationType, { id: string; label: string }>
  webhook: { destinationId: string; secret: string }
  peers: LocalPeerAddresses & {
    s3: { bucket: string }
    smtp: { host: string; port: number; username: string; password: string }
  }
}

export interface LocalStack {
  baseUrl: string
  adminToken: string
  demo: DemoState
}

/** Where `npm start` serves the API (scripts/stack/ports.mjs). */
export const DEFAULT_BASE_URL = 'http://127.0.0.1:8787'

/** How long a program waits for a service that does not answer at all. */
const NOT_RUNNING_GRACE_MS = 5000

const START_HINT = 'start the local stack with `npm start` in another terminal, then run this again'

/** A value of the state file, or an error naming the field. */
function need<T>(value: T | undefined | null, field: string, file: string): T {
  if (value === undefined || value === null || value === '')
    throw new Error(`${file} has no ${field}: ${START_HINT}`)
  return value
}

/** Reads `.dev.vars` and `.local/demo.json`; throws with what to do when they are missing. */
export function readLocalStack(root = REPOSITORY_ROOT): LocalStack {
  const varsPath = join(root, '.dev.vars')
  const statePath = join(root, '.local', 'demo.json')
  if (!existsSync(varsPath) || !existsSync(statePath))
    throw new Error(`.dev.vars or .local/demo.json is missing: ${START_HINT}`)
  const adminToken = need(
    parseEnv(readFileSync(varsPath, 'utf8')).ADMIN_TOKEN,
    'ADMIN_TOKEN',
    '.dev.vars',
  )
  const demo = JSON.parse(readFileSync(statePath, 'utf8')) as Partial<DemoState>
  const file = '.local/demo.json'
  need(demo.apiKey, 'apiKey', file)
  need(demo.webhook?.secret, 'webhook.secret', file)
  for (const type of ['webhook', 'storage', 'email', 'download'] as const)
    need(demo.destinations?.[type]?.id, `destinations.${type}.id`, file)
  need(demo.peers?.webhookInbox, 'peers.webhookInbox', file)
  need(demo.peers?.mailViewer, 'peers.mailViewer', file)
  need(demo.peers?.s3?.endpoint, 'peers.s3.endpoint', file)
  need(demo.peers?.smtp?.port, 'peers.smtp.port', file)
  return { baseUrl: need(demo.baseUrl, 'baseUrl', file), adminToken, demo: demo as DemoState }
}

/** Resolves when the service answers `/healthz`; throws with what to do otherwise. */
export async function requireRunning(baseUrl: string, fetcher: FetchLike = (r) => fetch(r)) {
  try {
    const response = await fetcher(
      new Request(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(5000) }),
    )
    await response.body?.cancel()
    if (response.ok) return
    throw new Error(`HTTP ${response.status}`)
  } catch (error) {
    throw new Error(
      `The service does not answer at ${baseUrl} (${(error as Error).message}): ${START_HINT}`,
    )
  }
}

/** Resolves once the demo organization's key and its four destinations answer. */
async function seeded(stack: LocalStack, fetcher: FetchLike): Promise<void> {
  for (const [type, { id }] of Object.entries(stack.demo.destinations)) {
    const request = new Request(`${stack.baseUrl}/v1/destinations/${encodeURIComponent(id)}`, {
      headers: { authorization: `Bearer ${stack.demo.apiKey}` },
      signal: AbortSignal.timeout(5000),
    })
    const response = await fetcher(request)
    await response.body?.cancel()
    if (!response.ok)
      throw new Error(`the demo ${type} destination answers HTTP ${response.status}: ${START_HINT}`)
  }
}

/**
 * The local stack once it is ready: `npm start` answers `/healthz` a few seconds before
 * it has written the demo organization's state, so a program started right after it
 * waits (up to `timeoutMs`) until that state is complete and its key and destinations
 * answer. `onWait` hears once why it is waiting.
 */
export async function waitForLocalStack(
  options: {
    baseUrl?: string
    timeoutMs?: number
    onWait?: (reason: string) => void
    fetch?: FetchLike
  } = {},
): Promise<LocalStack> {
  const fetcher = options.fetch ?? ((request: Request) => fetch(request))
  const started = Date.now()
  const deadline = started + (options.timeoutMs ?? 90_000)
  let answering = false
  let told = false
  for (;;) {
    try {
      await requireRunning(options.baseUrl ?? DEFAULT_BASE_URL, fetcher)
      answering = true
      const stack = readLocalStack()
      await seeded(stack, fetcher)
      return stack
    } catch (error) {
      // Nothing listening is most likely a stack that was never started: say so soon.
      const giveUp = answering ? deadline : Math.min(deadline, started + NOT_RUNNING_GRACE_MS)
      if (Date.now() >= giveUp) throw error
      if (!told) options.onWait?.((error as Error).message)
      told = true
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
  }
}
