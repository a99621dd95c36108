/**
 * The ceiling: the same harness (`wrangler dev`, same machine, same load generator and
 * request) against a Worker that answers 202 and does nothing else. It stays up for the
 * whole run and is measured again right before each ingest phase, so every ratio
 * compares two measurements taken a few seconds apart: the machine is shared, and its
 * speed drifts over minutes.
 */
import { phiAccessDelivery } from '../lib/events.ts'
import { type LoadResult, runLoad } from '../lib/load.ts'
import { type DevServer, startDev } from '../lib/wrangler.ts'

export function startCeiling(root: string, persistTo: string): Promise<DevServer> {
  return startDev({
    root,
    config: 'bench/noop.wrangler.toml',
    persistTo,
    readyPath: '/',
    inspector: false,
  })
}

export async function measureCeiling(
  server: DevServer,
  options: { connections: number; seconds: number },
): Promise<LoadResult> {
  const request = {
    method: 'POST' as const,
    path: '/v1/deliveries',
    headers: { authorization: 'Bearer ceiling' },
    body: phiAccessDelivery('dst_aaaaaaaaaaaaaaaaaaaa'),
  }
  const run = (seconds: number) =>
    runLoad({
      url: server.url,
      requests: [request],
      connections: options.connections,
      seconds,
      expectStatus: 202,
      runtimePids: server.runtimePids(),
    })
  await run(2)
  return run(options.seconds)
}
