/**
 * `npm start`: the whole service on this machine. In order: the reference assets, local
 * secrets in `.dev.vars`, D1 migrations on the local database, the local destinations
 * (webhook inbox, S3, SMTP with a mail viewer), `wrangler dev` with the development flag,
 * then a ready demo organization, and a timer that fires the scheduled handler each
 * minute. Ctrl-C (or SIGTERM to the process group) stops everything it started.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { copyDocsAssets } from './copy-docs-assets.mjs'
import { DEMO_ORGANIZATION, SeedError, seedDemo } from './stack/demo-seed.mjs'
import { ensureDevVars, isValidEncryptionKeys } from './stack/dev-vars.mjs'
import { startLocalPeers } from './stack/peers.mjs'
import { busyPorts, HOST, PORTS, URLS } from './stack/ports.mjs'
import {
  clearRecord,
  reapRecordedGroups,
  recordGroups,
  spawnGroup,
  stopGroups,
} from './stack/processes.mjs'
import { startScheduler } from './stack/scheduler.mjs'
import { printSummary } from './stack/summary.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const paths = {
  devVars: join(root, '.dev.vars'),
  demoState: join(root, '.local', 'demo.json'),
  groups: join(root, '.local', 'stack-processes.json'),
}
const HEALTH_TIMEOUT_MS = 120_000

const log = (line) => process.stdout.write(`[stack] ${line}\n`)
const fail = (line) => process.stderr.write(`[stack] ${line}\n`)

/** Everything started so far, stopped by `shutdown`; `recorded` once this run owns the record. */
const running = { groups: [], closers: [], stopScheduler: null, recorded: false }
let stopping = false

async function shutdown(code) {
  if (stopping) return
  stopping = true
  log('stopping…')
  running.stopScheduler?.()
  // In parallel: a supervisor may send SIGKILL one second after its SIGTERM.
  await Promise.allSettled([
    stopGroups(running.groups.map((group) => group.child.pid)),
    ...running.closers.map((close) => close()),
  ])
  // A run that stopped before starting wrangler (say, on a busy port) leaves the record
  // of the stack that holds the ports alone.
  if (running.recorded) clearRecord(paths.groups)
  log('stopped')
  process.exit(code)
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
])
  process.on(signal, () => void shutdown(code))

function wranglerBin() {
  const require = createRequire(join(root, 'package.json'))
  const manifest = require('wrangler/package.json')
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin.wrangler
  return join(dirname(require.resolve('wrangler/package.json')), bin)
}

/** Runs wrangler in its own process group; tracked so that Ctrl-C stops it too. */
function wrangler(tag, args) {
  const group = spawnGroup(tag, process.execPath, [wranglerBin(), ...args], {
    cwd: root,
    // No telemetry, and no fetch of the real `request.cf` from workers.cloudflare.com:
    // the local stack works offline with Miniflare's placeholder.
    env: {
      WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? 'false',
    },
  })
  running.groups.push(group)
  recordGroups(
    paths.groups,
    running.groups.map((each) => each.child.pid),
  )
  running.recorded = true
  return group
}

async function applyMigrations() {
  log('applying D1 migrations to the local database')
  const migrate = wrangler('migrate', ['d1', 'migrations', 'apply', 'DB', '--local'])
  const code = await migrate.exited
  running.groups = running.groups.filter((group) => group !== migrate)
  if (code !== 0) throw new Error(`wrangler d1 migrations apply exited with ${code}`)
}

async function waitForHealth(worker) {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS
  let exited = false
  void worker.exited.then(() => {
    exited = true
  })
  while (Date.now() < deadline && !exited) {
    try {
      const response = await fetch(`${URLS.api}/healthz`, { signal: AbortSignal.timeout(2000) })
      await response.body?.cancel()
      if (response.ok) return
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  throw new Error(
    exited ? 'wrangler dev exited before /healthz answered' : `/healthz did not answer`,
  )
}

async function seed(adminToken, peers) {
  try {
    return await seedDemo({ baseUrl: URLS.api, adminToken, statePath: paths.demoState, peers })
  } catch (error) {
    if (!(error instanceof SeedError)) throw error
    fail(`the demo organization is not ready: ${error.message}`)
    return null
  }
}

async function main() {
  const major = Number(process.versions.node.split('.')[0])
  if (major < 22)
    throw new Error(
      `Node ${process.versions.node} is too old for wrangler; run \`npm start\`, which uses the Node 24 from node_modules`,
    )

  copyDocsAssets(root)
  const secrets = ensureDevVars(paths.devVars)
  if (secrets.written.length > 0) log(`wrote ${secrets.written.join(' and ')} to .dev.vars`)
  if (!isValidEncryptionKeys(secrets.values.get('ENCRYPTION_KEYS') ?? ''))
    fail(
      'ENCRYPTION_KEYS in .dev.vars is not "<id>:<base64 of 32 bytes>"; the Worker will refuse it',
    )

  const reaped = await reapRecordedGroups(paths.groups)
  if (reaped.length > 0) log(`stopped ${reaped.length} process group(s) left by an earlier run`)
  const busy = await busyPorts()
  if (busy.length > 0)
    throw new Error(
      `ports already in use: ${busy.map(({ name, port }) => `${port} (${name})`).join(', ')}; is another \`npm start\` running? (see \`lsof -i :${busy[0]?.port}\`)`,
    )

  await applyMigrations()
  const peers = await startLocalPeers({ host: HOST, ports: PORTS, urls: URLS, log })
  running.closers.push(peers.close)

  const worker = wrangler('worker', [
    'dev',
    '--ip',
    HOST,
    '--port',
    String(PORTS.api),
    '--var',
    'ALLOW_LOOPBACK_DESTINATIONS:true',
    '--test-scheduled',
  ])
  void worker.exited.then((code) => {
    if (stopping) return
    fail(`wrangler dev exited with ${code}`)
    void shutdown(1)
  })
  await waitForHealth(worker)

  const adminToken = secrets.values.get('ADMIN_TOKEN')
  const seeded = await seed(adminToken, {
    host: HOST,
    ports: PORTS,
    urls: URLS,
    s3: peers.s3,
    smtp: peers.smtp,
  })
  if (seeded)
    peers.trustWebhookSecret(
      new URL(seeded.state.peers.webhookInbox).pathname,
      seeded.state.webhook.secret,
    )
  running.stopScheduler = startScheduler(URLS.api, log)

  printSummary({
    urls: URLS,
    ports: PORTS,
    host: HOST,
    peers,
    adminToken,
    organizationId: DEMO_ORGANIZATION.id,
    seeded,
  })
}

main().catch((error) => {
  fail(error instanceof Error ? error.message : String(error))
  void shutdown(1)
})
