/**
 * `wrangler dev` as the benchmark runs it: on free ports, with its own persistence folder
 * (so runs never share or touch the developer's local state), and with wrangler's own
 * output limited to warnings. Also applies the D1 migrations to that folder.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import {
  commandLineOf,
  descendants,
  descendantsNamed,
  type Group,
  spawnGroup,
  stopGroup,
} from './processes.ts'

export interface DevServer {
  url: string
  /** Null when started without the inspector. */
  inspectorPort: number | null
  group: Group
  /** The workerd processes serving the Worker (wrangler runs more than one). */
  runtimePids: () => number[]
  /**
   * CPU-relevant processes by role: wrangler's own Node process, the workerd that runs its
   * proxy on the public port, and the workerd that runs the Worker and the simulators.
   */
  processes: () => { role: string; pid: number }[]
  /** The workerd processes among `processes`, with their roles. */
  runtimeProcesses: () => { role: string; pid: number }[]
  stop: () => Promise<void>
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * The environment of every process the harness starts, the ceiling's and the service's
 * alike. `X_LOCAL_OBSERVABILITY=false` turns off the local trace store: by default the
 * simulator writes a trace of every invocation into a SQLite object inside the same
 * runtime process (270 MB on disk after 20,000 deliveries), which the platform does not
 * do inline and which cost both Workers CPU time and memory under load.
 */
const HARNESS_ENV = { WRANGLER_SEND_METRICS: 'false', CI: '1', X_LOCAL_OBSERVABILITY: 'false' }

function wranglerBin(root: string): string {
  const require = createRequire(join(root, 'package.json'))
  const manifest = require('wrangler/package.json') as { bin: string | Record<string, string> }
  const bin = typeof manifest.bin === 'string' ? manifest.bin : (manifest.bin.wrangler as string)
  return join(dirname(require.resolve('wrangler/package.json')), bin)
}

function wrangler(root: string, args: string[], logFile?: string): Group {
  return spawnGroup(process.execPath, [wranglerBin(root), ...args], {
    cwd: root,
    env: HARNESS_ENV,
    logFile,
  })
}

/**
 * Bundles the Worker once (`wrangler deploy --dry-run`) and writes a configuration that
 * runs that bundle as is, so the run measures one fixed build: `wrangler dev` on the
 * sources would rebuild and restart the runtime whenever a source file changes, dropping
 * what its simulators hold in memory. Returns the configuration's path.
 */
export async function buildSnapshot(root: string, outDir: string): Promise<string> {
  const build = wrangler(root, ['deploy', '--dry-run', '--outdir', outDir])
  const code = await build.exited
  if (code !== 0) throw new Error(`wrangler deploy --dry-run exited ${code}:\n${build.output()}`)
  let config = readFileSync(join(root, 'wrangler.toml'), 'utf8')
  const replace = (pattern: RegExp, value: string) => {
    if (!pattern.test(config)) throw new Error(`wrangler.toml: no line matches ${pattern}`)
    config = config.replace(pattern, value)
  }
  replace(/^main = .*$/m, 'main = "index.js"')
  replace(/^directory = .*$/m, `directory = ${JSON.stringify(join(root, 'public'))}`)
  replace(/^migrations_dir = .*$/m, `migrations_dir = ${JSON.stringify(join(root, 'migrations'))}`)
  const path = join(outDir, 'wrangler.toml')
  writeFileSync(path, config)
  return path
}

export async function applyMigrations(root: string, persistTo: string): Promise<void> {
  const run = wrangler(root, [
    'd1',
    'migrations',
    'apply',
    'DB',
    '--local',
    '--persist-to',
    persistTo,
  ])
  const code = await run.exited
  if (code !== 0) throw new Error(`wrangler d1 migrations apply exited ${code}:\n${run.output()}`)
}

/**
 * Starts the Worker locally and waits until `readyPath` answers: with the DevTools
 * inspector (the `wrangler dev` command itself), or without it (`bench/dev-server.ts`).
 */
export async function startDev(options: {
  root: string
  config: string
  persistTo: string
  /** Attach the inspector (needed to profile); it also relays every console line. */
  inspector: boolean
  /** The configuration's `main` is already a bundle (see `buildSnapshot`). */
  noBundle?: boolean
  vars?: Record<string, string>
  readyPath: string
  timeoutMs?: number
  /** Where wrangler's output goes as it comes (warnings and runtime errors). */
  logFile?: string
}): Promise<DevServer> {
  const port = await freePort()
  const inspectorPort = await freePort()
  const vars = Object.entries(options.vars ?? {}).flatMap(([k, v]) => ['--var', `${k}:${v}`])
  const launch = () =>
    options.inspector
      ? cli()
      : spawnGroup(
          process.execPath,
          [
            join(options.root, 'bench', 'dev-server.ts'),
            JSON.stringify({
              config: options.config,
              port,
              persistTo: options.persistTo,
              vars: options.vars ?? {},
            }),
          ],
          {
            cwd: options.root,
            env: HARNESS_ENV,
            logFile: options.logFile,
          },
        )
  const cli = () =>
    wrangler(
      options.root,
      [
        'dev',
        '--config',
        options.config,
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--inspector-port',
        String(inspectorPort),
        '--persist-to',
        options.persistTo,
        '--log-level',
        'warn',
        '--show-interactive-dev-session=false',
        ...(options.noBundle ? ['--no-bundle'] : []),
        ...vars,
      ],
      options.logFile,
    )
  const group = launch()
  const url = `http://127.0.0.1:${port}`
  const server: DevServer = {
    url,
    inspectorPort: options.inspector ? inspectorPort : null,
    group,
    runtimePids: () => (group.child.pid ? descendantsNamed(group.child.pid, 'workerd') : []),
    processes: () => {
      const wranglerPid = group.child.pid
      if (wranglerPid === undefined) return []
      // The `wrangler` launcher runs the CLI in a second Node process; the dev server is one.
      const node = [wranglerPid, ...descendants(wranglerPid)].filter((pid) => {
        const command = commandLineOf(pid)
        return command.includes('wrangler-dist/cli.js') || command.includes('bench/dev-server.ts')
      })
      return [
        ...node.map((pid) => ({ role: 'wrangler (Node)', pid })),
        ...descendantsNamed(wranglerPid, 'workerd').map((pid) => ({
          role: commandLineOf(pid).includes(`entry=127.0.0.1:${port} `)
            ? 'workerd: proxy'
            : 'workerd: Worker',
          pid,
        })),
      ]
    },
    runtimeProcesses: () => server.processes().filter(({ role }) => role.startsWith('workerd')),
    stop: () => stopGroup(group),
  }
  let exited = false
  void group.exited.then(() => {
    exited = true
  })
  const deadline = Date.now() + (options.timeoutMs ?? 120_000)
  while (Date.now() < deadline && !exited) {
    try {
      const response = await fetch(`${url}${options.readyPath}`, {
        signal: AbortSignal.timeout(2000),
      })
      await response.arrayBuffer()
      if (response.status < 500) return server
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  await server.stop()
  throw new Error(`wrangler dev (${options.config}) did not become ready:\n${group.output()}`)
}
