/**
 * The local stack's fixed addresses, documented in the README. They stay clear of the
 * Worker's 8787 and of 9911/9912, which the outside checks use for their own receivers.
 */
import { createServer } from 'node:net'

export const HOST = '127.0.0.1'

export const PORTS = {
  api: 8787,
  webhookInbox: 8790,
  viewer: 8791,
  s3: 8792,
  smtp: 2525,
}

export const URLS = {
  api: `http://${HOST}:${PORTS.api}`,
  webhookInbox: `http://${HOST}:${PORTS.webhookInbox}`,
  viewer: `http://${HOST}:${PORTS.viewer}`,
  s3: `http://${HOST}:${PORTS.s3}`,
}

/** Resolves true when nothing listens on the port of the loopback address. */
export function portFree(port) {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(false))
    probe.listen({ host: HOST, port, exclusive: true }, () => probe.close(() => resolve(true)))
  })
}

/** The stack's ports that something else already holds, as `{ name, port }`. */
export async function busyPorts() {
  const entries = Object.entries(PORTS)
  const free = await Promise.all(entries.map(([, port]) => portFree(port)))
  return entries.filter((_, index) => !free[index]).map(([name, port]) => ({ name, port }))
}
