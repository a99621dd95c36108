/**
 * `npm run bench`: the service measured against the ceiling of its own harness, in one
 * run, on this machine. Starts `wrangler dev` twice on free ports with fresh state (a
 * no-op Worker for the ceiling, then the service with the development flag), a webhook
 * receiver on loopback, and drives load with autocannon. Prints a table and writes
 * `bench/results/<time>.json`. Sizes are flags (see `--help`).
 */
import { execFileSync } from 'node:child_process'
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { BenchContext, BenchOptions } from './lib/context.ts'
import { phiAccessDelivery } from './lib/events.ts'
import { type LoadResult, runLoad } from './lib/load.ts'
import { type RuntimeUsage, sampleRuntime } from './lib/memory.ts'
import { cpuSecondsOf, memoryOf } from './lib/processes.ts'
import { isolateHeap, startProfile } from './lib/profile.ts'
import { startCountingReceiver } from './lib/receiver.ts'
import {
  evaluateTargets,
  PHASE_HEADERS,
  type PhaseResults,
  phaseRows,
  table,
} from './lib/report.ts'
import { ServiceClient } from './lib/service.ts'
import { applyMigrations, buildSnapshot, type DevServer, startDev } from './lib/wrangler.ts'
import { measureCeiling, startCeiling } from './scenarios/ceiling.ts'
import { runIndividualDeliveries, runSeedScenario } from './scenarios/end-to-end.ts'
import { batchBody, createSinkTenants, measureIngest, removeSinks } from './scenarios/ingest.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const log = (line: string) => process.stdout.write(`[bench] ${line}\n`)

const FLAGS = {
  seconds: { default: 15, help: 'seconds of each ingest measurement' },
  connections: { default: 32, help: 'connections for the ceiling and single-delivery ingest' },
  'batch-connections': { default: 4, help: 'connections for batch ingest' },
  'batch-size': { default: 1000, help: 'deliveries per batch request' },
  events: { default: 100_000, help: "events of the seed's high-volume scenario" },
  deliveries: { default: 100_000, help: 'individual deliveries end to end' },
  organizations: { default: 10, help: 'organizations of the end-to-end phases' },
  'send-concurrency': { default: 4, help: 'batch requests in flight in the end-to-end phase' },
  'max-in-flight': { default: 1000, help: 'outbox window per destination (1..1000)' },
  'profile-deliveries': { default: 10_000, help: 'deliveries of the profiled run; 0 skips it' },
  timeout: { default: 1800, help: 'seconds before an end-to-end phase gives up' },
} as const

/**
 * Where the simulators keep their state. Every storage commit of the local runtime (the
 * organizations' SQLite, D1, R2, the queues) is flushed to disk, and on this kind of
 * virtual machine that flush, not the service, sets the pace. A RAM-backed folder takes
 * the machine's disk out of the measurement; `--state-dir` puts it back.
 */
function defaultStateDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK)
    return '/dev/shm'
  } catch {
    return os.tmpdir()
  }
}

function parseOptions(): BenchOptions & {
  quick: boolean
  ingestOnly: boolean
  stateDir: string
} {
  const { values } = parseArgs({
    options: {
      ...Object.fromEntries(Object.keys(FLAGS).map((name) => [name, { type: 'string' as const }])),
      'state-dir': { type: 'string' },
      quick: { type: 'boolean' },
      'ingest-only': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  })
  if (values.help) {
    process.stdout.write('npm run bench -- [--quick] [--flag value …]\n')
    for (const [name, flag] of Object.entries(FLAGS))
      process.stdout.write(`  --${name.padEnd(20)} ${flag.help} (default ${flag.default})\n`)
    process.stdout.write(
      "  --state-dir            folder for the simulators' state (default /dev/shm when writable)\n",
    )
    process.stdout.write(
      '  --quick                a smoke run: 5 s, 10,000 events, 5,000 deliveries\n',
    )
    process.stdout.write(
      '  --ingest-only          only the ceiling and the ingest phases, profiled without delivery\n',
    )
    process.exit(0)
  }
  const quick = values.quick === true
  const number = (name: keyof typeof FLAGS, quickValue?: number) => {
    const given = (values as Record<string, string | undefined>)[name]
    const value =
      given === undefined
        ? quick && quickValue !== undefined
          ? quickValue
          : FLAGS[name].default
        : Number(given)
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number >= 0`)
    return value
  }
  return {
    quick,
    ingestOnly: values['ingest-only'] === true,
    stateDir: values['state-dir'] ?? defaultStateDir(),
    seconds: number('seconds', 5),
    connections: number('connections'),
    batchConnections: number('batch-connections'),
    batchSize: Math.min(1000, Math.max(2, number('batch-size'))),
    events: number('events', 10_000),
    deliveries: number('deliveries', 5_000),
    organizations: Math.max(1, number('organizations')),
    sendConcurrency: Math.max(1, number('send-concurrency')),
    maxInFlight: Math.min(1000, Math.max(1, number('max-in-flight'))),
    profileDeliveries: number('profile-deliveries', 2_000),
    timeoutSeconds: number('timeout'),
  }
}

function machine() {
  const cpus = os.cpus()
  let wrangler = ''
  try {
    wrangler = execFileSync(
      process.execPath,
      [join(root, 'node_modules/wrangler/bin/wrangler.js'), '--version'],
      {
        encoding: 'utf8',
      },
    ).trim()
  } catch {
    wrangler = 'unknown'
  }
  let revision = 'unknown'
  try {
    revision = execFileSync('git', ['describe', '--always', '--dirty'], {
      cwd: root,
      encoding: 'utf8',
    }).trim()
  } catch {
    // Not a git checkout.
  }
  return {
    revision,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    wrangler,
    loadAverageAtStart: os.loadavg().map((n) => Math.round(n * 100) / 100),
  }
}

/** CPU seconds by role (see `DevServer.processes`), summed over processes of a role. */
type CpuByRole = Record<string, number>

/** Runs a phase and records the CPU the service's processes and this process spent on it. */
async function phase<T>(
  name: string,
  server: DevServer,
  work: () => Promise<T>,
): Promise<
  T & {
    cpu: { wallSeconds: number; seconds: CpuByRole; benchSeconds: number; exited: string[] }
    residentMiBAfter: number
  }
> {
  log(`${name}…`)
  const processes = server.processes()
  const before = new Map(processes.map(({ pid }) => [pid, cpuSecondsOf(pid)]))
  const own = process.cpuUsage()
  const started = performance.now()
  const result = await work()
  const used = process.cpuUsage(own)
  const seconds: CpuByRole = {}
  const exited: string[] = []
  for (const { role, pid } of processes) {
    const now = cpuSecondsOf(pid)
    // A process that is gone took its counters with it: say so rather than count less.
    if (now === 0 && (before.get(pid) ?? 0) > 0) exited.push(role)
    seconds[role] =
      Math.round(((seconds[role] ?? 0) + Math.max(0, now - (before.get(pid) ?? 0))) * 100) / 100
  }
  if (exited.length > 0) log(`  ${exited.join(', ')} exited during "${name}"`)
  const residentBytes = server
    .runtimePids()
    .reduce((sum, pid) => sum + (memoryOf(pid)?.rss ?? 0), 0)
  return {
    ...result,
    cpu: {
      wallSeconds: Math.round((performance.now() - started) / 10) / 100,
      seconds,
      benchSeconds: Math.round(((used.user + used.system) / 1e6) * 100) / 100,
      exited,
    },
    residentMiBAfter: Math.round(residentBytes / 1024 ** 2),
  }
}

async function main() {
  const options = parseOptions()
  const startedAt = new Date()
  const host = machine()
  log(
    `machine: ${host.cpus} cores (${host.cpuModel}), ${host.memoryGiB} GiB, load ${host.loadAverageAtStart.join(' ')}`,
  )
  const state = mkdtempSync(join(options.stateDir, 'audit-bench-'))
  log(`simulators' state in ${state}`)
  const receiver = await startCountingReceiver()
  const servers: DevServer[] = []
  try {
    const ceilingServer = await startCeiling(root, join(state, 'ceiling'))
    servers.push(ceilingServer)
    // The harness's own memory: the no-op Worker's processes grow with the requests they serve.
    const ceilingUsage = sampleRuntime(ceilingServer.runtimeProcesses)
    const ceilings: LoadResult[] = []
    const ceiling = async () => {
      const measured = await measureCeiling(ceilingServer, options)
      ceilings.push(measured)
      log(`  ceiling: ${measured.requestsPerSecond} req/s`)
      return measured
    }

    const config = await buildSnapshot(root, join(state, 'build'))
    const persistTo = join(state, 'service')
    const dev = await startService(config, persistTo, false)
    servers.push(dev.server)
    const usage = sampleRuntime(dev.server.runtimeProcesses)
    const ctx: BenchContext = { root, options, ...dev, receiver, persistTo, log }

    const one = await createSinkTenants(ctx, 'ingest-one', 1)
    const ten = await createSinkTenants(ctx, 'ingest-ten', 10)
    const single = await phase('single-delivery ingest, one organization', ctx.dev, async () =>
      measureIngest(ctx, one, { batchSize: 1, connections: options.connections }, await ceiling()),
    )
    const batch = await phase('batch ingest', ctx.dev, async () =>
      measureIngest(
        ctx,
        one,
        { batchSize: options.batchSize, connections: options.batchConnections },
        await ceiling(),
      ),
    )
    const tenants = await phase('single-delivery ingest, ten organizations', ctx.dev, async () =>
      measureIngest(ctx, ten, { batchSize: 1, connections: options.connections }, await ceiling()),
    )
    await removeSinks(ctx, [...one, ...ten])

    const perDelivery = <T extends { deliveries: number }>(
      result: T & { cpu: { seconds: CpuByRole } },
    ) => {
      const runtime = Object.entries(result.cpu.seconds)
        .filter(([role]) => role.startsWith('workerd'))
        .reduce((n, [, s]) => n + s, 0)
      return {
        ...result,
        runtimeCpuMsPerDelivery:
          Math.round((runtime * 100_000) / Math.max(1, result.deliveries)) / 100,
      }
    }
    const seed = options.ingestOnly
      ? null
      : perDelivery(await phase("seed's high-volume scenario", ctx.dev, () => runSeedScenario(ctx)))
    const individual = options.ingestOnly
      ? null
      : perDelivery(
          await phase('individual deliveries end to end', ctx.dev, () =>
            runIndividualDeliveries(ctx, { deliveries: options.deliveries, prefix: 'individual' }),
          ),
        )
    const memory = usage.stop()
    const ceilingMemory = ceilingUsage.stop()
    await dev.server.stop()
    const profile =
      options.profileDeliveries > 0
        ? await profileRun(
            { ...ctx, persistTo: join(state, 'profiled') },
            config,
            !options.ingestOnly,
          )
        : null

    const phases: PhaseResults = {
      ceilingPerSecond:
        Math.round((ceilings.reduce((n, c) => n + c.requestsPerSecond, 0) / ceilings.length) * 10) /
        10,
      ceilings,
      single,
      batch,
      tenants,
      seed,
      individual,
    }
    const targets = evaluateTargets(phases, memory.peakTotalBytes, ceilingMemory.peakTotalBytes)
    const results = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      machine: host,
      options,
      ceiling: { meanRequestsPerSecond: phases.ceilingPerSecond, measurements: ceilings },
      ingest: { single, batch, tenants },
      endToEnd: { seed, individual },
      runtime: memory,
      ceilingRuntime: {
        ...ceilingMemory,
        requests: ceilings.reduce((n, c) => n + c.requests, 0),
      },
      profile,
      receiver: { verifiedRequests: receiver.received(), rejectedRequests: receiver.rejected() },
      targets,
    }
    const stamp = startedAt.toISOString().replaceAll(':', '-').slice(0, 19)
    const file = join(root, 'bench', 'results', `${stamp}.json`)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`)
    printSummary(phases, targets, { service: memory, ceiling: ceilingMemory }, profile, file)
  } finally {
    for (const server of servers.reverse()) await server.stop()
    await receiver.close()
    rmSync(state, { recursive: true, force: true })
  }
}

/** The service from the snapshot build, with a fresh D1 and a fresh admin token. */
async function startService(config: string, persistTo: string, inspector: boolean) {
  await applyMigrations(root, persistTo)
  const adminToken = `bench-${crypto.randomUUID()}`
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')
  const server = await startDev({
    root,
    config,
    inspector,
    noBundle: true,
    logFile: join(os.tmpdir(), `audit-bench-${inspector ? 'profiled' : 'service'}.log`),
    persistTo,
    readyPath: '/healthz',
    vars: {
      ALLOW_LOOPBACK_DESTINATIONS: 'true',
      ADMIN_TOKEN: adminToken,
      ENCRYPTION_KEYS: `k1:${key}`,
    },
  })
  return { server, dev: server, service: new ServiceClient(server.url, adminToken) }
}

/**
 * Where the time goes: a second instance of the service, with the DevTools inspector
 * attached, profiled while it ingests single deliveries for a while, then batches, and
 * then (`withDelivery`) while it delivers a set of individual deliveries end to end; the
 * V8 heap of its isolate is read
 * at the end. Separate from the measured instance, because the inspector and the profiler
 * slow the runtime down.
 */
async function profileRun(base: BenchContext, config: string, withDelivery: boolean) {
  const started = await startService(config, base.persistTo, true)
  const ctx: BenchContext = { ...base, ...started }
  const port = started.server.inspectorPort as number
  try {
    const [tenant] = await createSinkTenants(ctx, 'profiled-ingest', 1)
    const ingestProfile = await startProfile(port)
    const ingest = await runLoad({
      url: ctx.service.baseUrl,
      requests: [
        {
          method: 'POST',
          path: '/v1/deliveries',
          headers: { authorization: `Bearer ${tenant?.apiKey}` },
          body: phiAccessDelivery(tenant?.sinkId ?? ''),
        },
      ],
      connections: ctx.options.connections,
      seconds: ctx.options.seconds,
      expectStatus: 202,
      runtimePids: ctx.dev.runtimePids(),
    })
    const ingestSummary = { requests: ingest.ok, ...(await ingestProfile.stop()) }
    const batchProfile = await startProfile(port)
    const batch = await runLoad({
      url: ctx.service.baseUrl,
      requests: [
        {
          method: 'POST',
          path: '/v1/deliveries/batch',
          headers: { authorization: `Bearer ${tenant?.apiKey}` },
          body: tenant ? batchBody(tenant, ctx.options.batchSize) : '',
        },
      ],
      connections: ctx.options.batchConnections,
      seconds: ctx.options.seconds,
      expectStatus: 200,
      runtimePids: ctx.dev.runtimePids(),
    })
    const batchSummary = {
      deliveries: batch.ok * ctx.options.batchSize,
      ...(await batchProfile.stop()),
    }
    if (tenant) await removeSinks(ctx, [tenant])
    let delivery = null
    if (withDelivery) {
      const deliveryProfile = await startProfile(port)
      const run = await runIndividualDeliveries(ctx, {
        deliveries: ctx.options.profileDeliveries,
        prefix: 'profiled',
      })
      delivery = {
        deliveries: run.deliveries,
        complete: run.complete,
        ...(await deliveryProfile.stop()),
      }
    }
    return {
      ingest: ingestSummary,
      batch: batchSummary,
      delivery,
      isolateHeapAfter: await isolateHeap(port),
    }
  } catch (error) {
    log(`profile failed: ${error instanceof Error ? error.message : String(error)}`)
    return null
  } finally {
    await started.server.stop()
  }
}

function printSummary(
  phases: PhaseResults,
  targets: ReturnType<typeof evaluateTargets>,
  memory: Record<'service' | 'ceiling', RuntimeUsage>,
  profile: Awaited<ReturnType<typeof profileRun>>,
  file: string,
) {
  const out = (text: string) => process.stdout.write(`${text}\n`)
  out(`\n${table(PHASE_HEADERS, phaseRows(phases))}\n`)
  out(
    `${table(
      ['target', 'wanted', 'measured', 'verdict'],
      targets.map((t) => [t.name, t.target, t.actual, t.met ? 'met' : `MISSED: ${t.missedBy}`]),
    )}\n`,
  )
  const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`
  const usage = (name: string, u: RuntimeUsage) =>
    out(
      `${name}: peak ${mib(u.peakTotalBytes)} resident (${Object.entries(u.peakByRoleBytes)
        .map(([role, bytes]) => `${role} ${mib(bytes)}`)
        .join(', ')}); ${u.cpuSeconds} CPU s in ${u.wallSeconds} s`,
    )
  usage('runtime, service', memory.service)
  usage('runtime, no-op Worker in the same harness', memory.ceiling)
  const shares = (byRole: Record<string, number>) =>
    Object.entries(byRole)
      .map(([role, share]) => `${role} ${(share * 100).toFixed(0)} %`)
      .join(', ')
  if (profile) {
    out(`profile, ingest (${profile.ingest.requests} requests): ${shares(profile.ingest.byRole)}`)
    out(
      `profile, batch ingest (${profile.batch.deliveries} deliveries): ${shares(profile.batch.byRole)}`,
    )
    if (profile.delivery)
      out(
        `profile, delivery (${profile.delivery.deliveries} deliveries): ${shares(profile.delivery.byRole)}`,
      )
  }
  out(`results: ${file}`)
}

main().catch((error) => {
  process.stderr.write(
    `[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exit(1)
})
