/**
 * The client under test talks to the real Worker: its `fetch` hands requests for the
 * service's origin to the Worker's own fetch handler and everything else (the loopback
 * peers) to the network. A recorder keeps the method and path of each service call.
 */
import { exports } from 'cloudflare:workers'
import {
  createDeliveryService,
  type DeliveryServiceOptions,
  type FetchLike,
} from '../../src/client/index.ts'
import { ADMIN_TOKEN, createTenant } from '../support/api'

/** The origin the client is given; the Worker ignores the host. */
export const SERVICE_URL = 'http://service.test'

export interface RecordedCall {
  method: string
  path: string
}

/** A fetch that routes service requests to the Worker and records them in `calls`. */
export function workerFetch(calls: RecordedCall[] = []): FetchLike {
  return (request) => {
    const url = new URL(request.url)
    if (url.origin !== SERVICE_URL) return fetch(request)
    calls.push({ method: request.method, path: `${url.pathname}${url.search}` })
    return exports.default.fetch(request)
  }
}

/** A client for the Worker under test. */
export function serviceClient(
  options: Omit<DeliveryServiceOptions, 'baseUrl' | 'fetch'> = {},
  calls?: RecordedCall[],
) {
  return createDeliveryService({ baseUrl: SERVICE_URL, fetch: workerFetch(calls), ...options })
}

/** A fresh tenant and a client holding its key (and the admin token). */
export async function tenantClient(prefix = 'client') {
  const tenant = await createTenant(prefix)
  return { ...tenant, client: serviceClient({ apiKey: tenant.apiKey, adminToken: ADMIN_TOKEN }) }
}

export { ADMIN_TOKEN }
