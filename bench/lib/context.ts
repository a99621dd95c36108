/** What every benchmark phase gets: the running service, its client, the receiver, the options. */
import type { CountingReceiver } from './receiver.ts'
import type { ServiceClient } from './service.ts'
import type { DevServer } from './wrangler.ts'

export interface BenchOptions {
  /** Seconds each ingest measurement lasts. */
  seconds: number
  /** Connections for single-delivery ingest (the ceiling uses the same). */
  connections: number
  /** Connections for batch ingest (each request carries `batchSize` deliveries). */
  batchConnections: number
  batchSize: number
  /** Events of the seed's high-volume scenario. */
  events: number
  /** Individual deliveries sent through the batch route end to end. */
  deliveries: number
  organizations: number
  /** Batch requests in flight at once in the end-to-end phase. */
  sendConcurrency: number
  /** Outbox in-flight window per destination for the end-to-end tenants. */
  maxInFlight: number
  /** Deliveries of the profiled run (0 skips it). */
  profileDeliveries: number
  /** Give up on an end-to-end phase after this many seconds. */
  timeoutSeconds: number
}

export interface BenchContext {
  root: string
  options: BenchOptions
  service: ServiceClient
  dev: DevServer
  receiver: CountingReceiver
  persistTo: string
  log: (line: string) => void
}
