/**
 * A loopback TCP relay: listens on a fixed port and pipes every connection, byte for
 * byte, to a peer on its ephemeral port. The shared test peers pick their own ports;
 * the relay gives each one the fixed address the README documents without changing
 * what the peer sees (headers such as Host pass through untouched).
 */
import { connect, createServer } from 'node:net'

/** Starts relaying `host:port` to `host:targetPort`; resolves with a `close` function. */
export async function startTcpRelay(host, port, targetPort) {
  const open = new Set()
  const server = createServer((client) => {
    const upstream = connect({ host, port: targetPort })
    for (const socket of [client, upstream]) {
      open.add(socket)
      socket.on('close', () => open.delete(socket))
    }
    // An error on either side ends both; the peer or the client sees a reset.
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.pipe(upstream).pipe(client)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port, exclusive: true }, resolve)
  })
  return {
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
