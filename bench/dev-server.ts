/**
 * Runs a Worker locally the way `wrangler dev` does (wrangler's own dev server, workerd,
 * the same simulators), minus the DevTools inspector. The CLI always attaches one, and it
 * relays every `console.log` of the Worker to wrangler's terminal through a proxy process;
 * under benchmark load that relay costs more CPU than the logging itself and its backlog
 * grows without bound. Logs still go where the platform sends them locally (workerd's
 * structured output); warnings and errors are kept on stderr.
 *
 * Usage: node bench/dev-server.ts '<json>' with `{ config, port, persistTo, vars }`.
 * Prints `ready <url>` once requests are answered; stops on SIGTERM.
 */
import { unstable_startWorker } from 'wrangler'

interface Options {
  config: string
  port: number
  persistTo: string
  vars: Record<string, string>
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options
const worker = await unstable_startWorker({
  config: options.config,
  dev: {
    server: { hostname: '127.0.0.1', port: options.port },
    inspector: false,
    persist: options.persistTo,
    watch: false,
    logLevel: 'warn',
    structuredLogsHandler: ({ level, message }: { level: string; message: string }) => {
      if (level === 'warn' || level === 'error') process.stderr.write(`${message}\n`)
    },
  },
  bindings: Object.fromEntries(
    Object.entries(options.vars).map(([name, value]) => [name, { type: 'plain_text', value }]),
  ),
} as unknown as Parameters<typeof unstable_startWorker>[0])
await worker.ready
process.stdout.write(`ready ${String(await worker.url)}\n`)

const stop = async () => {
  await worker.dispose()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
