/**
 * A loopback HTTP peer that records every request it receives and can be told, per path,
 * to misbehave (answer a status, hang, drop the connection, redirect). Tests running inside
 * workerd drive it over HTTP through its control routes under `/__peer/`:
 *
 * - `GET /__peer/requests?path=<pathname>` or `?prefix=<pathname prefix>`: what arrived.
 * - `POST /__peer/faults` `{ path | prefix, fault }`: queue a misbehaviour.
 * - `DELETE /__peer/faults?path=…|prefix=…`: clear queued misbehaviours.
 *
 * Written in erasable TypeScript so that plain Node 24 can import it (`npm start`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A peer's verdict on a request, with whatever detail the peer adds. */
export interface PeerCheck {
  ok: boolean
  reason?: string
  details?: unknown
}

/** One request as the peer received it. */
export interface RecordedRequest {
  method: string
  /** The pathname exactly as sent, still percent-encoded. */
  path: string
  query: string
  /** Lowercased names; repeated headers joined with ", " as Node does. */
  headers: Record<string, string>
  body: string
  bodyBase64: string
  receivedAt: string
  /** The peer's own check of the request (signature, body shape); null when it has none. */
  check: PeerCheck | null
  /** The status the peer answered, or null when it hung up or dropped the connection. */
  status: number | null
}

/** A misbehaviour, consumed once per matching request until `times` runs out (default 1). */
export type Fault =
  | {
      mode: 'status'
      status: number
      headers?: Record<string, string>
      body?: string
      times?: number
    }
  | { mode: 'hang'; ms: number; times?: number }
  | { mode: 'drop'; times?: number }
  | { mode: 'redirect'; location: string; status?: number; times?: number }

/** What the peer's own logic answers when no fault applies. */
export interface PeerReply {
  status: number
  headers?: Record<string, string>
  body?: string
  check?: PeerCheck | null
}

export interface PeerRequest {
  method: string
  url: URL
  /** Raw pathname, before any decoding. */
  path: string
  headers: Record<string, string>
  body: Buffer
}

export type PeerHandler = (request: PeerRequest) => PeerReply | Promise<PeerReply>

/** Extra control routes of a specific peer; answer null to fall through to 404. */
export type ControlHandler = (
  request: PeerRequest,
) => PeerReply | null | undefined | Promise<PeerReply | null | undefined>

export interface HttpPeer {
  url: string
  port: number
  server: Server
  requests: RecordedRequest[]
  close(): Promise<void>
}

interface QueuedFault {
  path?: string
  prefix?: string
  fault: Fault
  remaining: number
}

const MAX_RECORDED = 5000
const MAX_BODY_BYTES = 32 * 1024 * 1024

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

function send(res: ServerResponse, reply: PeerReply): void {
  res.writeHead(reply.status, reply.headers ?? {})
  res.end(reply.body ?? '')
}

/** A JSON reply. */
export function json(status: number, value: unknown, headers: Record<string, string> = {}) {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(value),
  }
}

/** Starts a peer on 127.0.0.1 and an ephemeral port. */
export async function startHttpPeer(
  handler: PeerHandler,
  options: { control?: ControlHandler } = {},
): Promise<HttpPeer> {
  const requests: RecordedRequest[] = []
  const faults: QueuedFault[] = []
  const timers = new Set<NodeJS.Timeout>()

  const takeFault = (path: string): Fault | null => {
    const index = faults.findIndex((queued) =>
      queued.path !== undefined ? queued.path === path : path.startsWith(queued.prefix ?? ''),
    )
    const queued = faults[index]
    if (!queued) return null
    queued.remaining -= 1
    if (queued.remaining <= 0) faults.splice(index, 1)
    return queued.fault
  }

  const control = async (request: PeerRequest): Promise<PeerReply> => {
    const { url } = request
    if (url.pathname === '/__peer/requests' && request.method === 'GET') {
      const path = url.searchParams.get('path')
      const prefix = url.searchParams.get('prefix')
      const matching = requests.filter((recorded) =>
        path !== null ? recorded.path === path : recorded.path.startsWith(prefix ?? ''),
      )
      return json(200, { requests: matching })
    }
    if (url.pathname === '/__peer/faults' && request.method === 'POST') {
      const input = JSON.parse(request.body.toString('utf8')) as {
        path?: string
        prefix?: string
        fault: Fault
      }
      faults.push({
        path: input.path,
        prefix: input.prefix,
        fault: input.fault,
        remaining: input.fault.times ?? 1,
      })
      return { status: 204 }
    }
    if (url.pathname === '/__peer/faults' && request.method === 'DELETE') {
      const path = url.searchParams.get('path')
      const prefix = url.searchParams.get('prefix')
      for (let i = faults.length - 1; i >= 0; i--) {
        const queued = faults[i]
        if (queued && (queued.path === path || (prefix !== null && queued.prefix === prefix)))
          faults.splice(i, 1)
      }
      return { status: 204 }
    }
    return (await options.control?.(request)) ?? json(404, { error: 'unknown control route' })
  }

  const record = (request: PeerRequest, status: number | null, check: RecordedRequest['check']) => {
    requests.push({
      method: request.method,
      path: request.path,
      query: request.url.search,
      headers: request.headers,
      body: request.body.toString('utf8'),
      bodyBase64: request.body.toString('base64'),
      receivedAt: new Date().toISOString(),
      check,
      status,
    })
    if (requests.length > MAX_RECORDED) requests.splice(0, requests.length - MAX_RECORDED)
  }

  const server = createServer(async (req, res) => {
    try {
      const body = await readBody(req)
      const rawUrl = req.url ?? '/'
      const request: PeerRequest = {
        method: req.method ?? 'GET',
        url: new URL(rawUrl, 'http://127.0.0.1'),
        path: rawUrl.split('?')[0] ?? '/',
        headers: flatHeaders(req),
        body,
      }
      if (request.path.startsWith('/__peer/')) {
        send(res, await control(request))
        return
      }
      const fault = takeFault(request.path)
      if (fault?.mode === 'drop') {
        record(request, null, null)
        req.socket.destroy()
        return
      }
      if (fault?.mode === 'hang') {
        record(request, null, null)
        const timer = setTimeout(() => {
          timers.delete(timer)
          if (!res.destroyed) send(res, { status: 200, body: 'too late' })
        }, fault.ms)
        timers.add(timer)
        return
      }
      if (fault?.mode === 'status') {
        record(request, fault.status, null)
        send(res, { status: fault.status, headers: fault.headers, body: fault.body })
        return
      }
      if (fault?.mode === 'redirect') {
        const status = fault.status ?? 302
        record(request, status, null)
        send(res, { status, headers: { location: fault.location } })
        return
      }
      const reply = await handler(request)
      record(request, reply.status, reply.check ?? null)
      send(res, reply)
    } catch (error) {
      if (!res.headersSent) send(res, json(500, { error: (error as Error).message }))
    }
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
