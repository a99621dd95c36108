/**
 * Load with autocannon: a fixed number of connections for a fixed time, every request
 * checked by status. Throughput is successful requests over the measured seconds (not
 * autocannon's per-second sample average); latency percentiles are autocannon's.
 */
import autocannon from 'autocannon'
import { cpuSecondsOf } from './processes.ts'

export interface LoadRequest {
  method: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  body?: string
}

export interface LoadResult {
  connections: number
  seconds: number
  requests: number
  /** Answers with the expected status. */
  ok: number
  /** Other statuses, connection errors and timeouts. */
  failed: number
  statuses: Record<string, number>
  requestsPerSecond: number
  latencyMs: { p50: number; p90: number; p99: number; max: number }
  /** CPU the runtime processes used during the run, and per successful request. */
  runtimeCpuSeconds: number
  runtimeCpuMsPerRequest: number
}

/** Runs `connections` clients for `seconds`, cycling through `requests`. */
export async function runLoad(options: {
  url: string
  requests: LoadRequest[]
  connections: number
  seconds: number
  expectStatus: number
  /** The runtime's processes, whose CPU time is charged to the run. */
  runtimePids: number[]
}): Promise<LoadResult> {
  const cpuBefore = options.runtimePids.map(cpuSecondsOf)
  const started = performance.now()
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    timeout: 60,
    requests: options.requests.map((request) => ({
      method: request.method,
      path: request.path,
      headers: { 'content-type': 'application/json', ...request.headers },
      body: request.body,
    })),
  })
  const elapsed = (performance.now() - started) / 1000
  const cpu = options.runtimePids.reduce(
    (sum, pid, i) => sum + cpuSecondsOf(pid) - (cpuBefore[i] ?? 0),
    0,
  )
  const statuses: Record<string, number> = {}
  for (const [status, stats] of Object.entries(result.statusCodeStats))
    statuses[status] = stats.count
  const ok = statuses[String(options.expectStatus)] ?? 0
  const requests = result.requests.total
  return {
    connections: options.connections,
    seconds: Math.round(elapsed * 100) / 100,
    requests,
    ok,
    failed: requests - ok + result.errors + result.timeouts,
    statuses,
    requestsPerSecond: Math.round((ok / result.duration) * 10) / 10,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    runtimeCpuSeconds: Math.round(cpu * 100) / 100,
    runtimeCpuMsPerRequest: ok === 0 ? 0 : Math.round((cpu / ok) * 100_000) / 100,
  }
}
