/** The part of autocannon's programmatic API the benchmark uses (the package ships no types). */
declare module 'autocannon' {
  interface Histogram {
    average: number
    total: number
    p50: number
    p90: number
    p99: number
    max: number
  }
  interface Options {
    url: string
    connections: number
    duration: number
    timeout?: number
    requests: { method: string; path: string; headers?: Record<string, string>; body?: string }[]
  }
  interface Result {
    duration: number
    errors: number
    timeouts: number
    latency: Histogram
    requests: Histogram & { sent: number }
    statusCodeStats: Record<string, { count: number }>
  }
  function autocannon(options: Options): Promise<Result>
  export default autocannon
}
