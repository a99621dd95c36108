/**
 * Runs in Node before the workerd test pool starts: brings up the real peers the tests
 * talk to on loopback and provides their addresses to the tests through `inject('peers')`.
 */
import type { TestProject } from 'vitest/node'
import { type PeerAddresses, startPeers } from '../peers/index.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    peers: PeerAddresses
  }
}

export default async function setup(project: TestProject) {
  const peers = await startPeers()
  project.provide('peers', peers.addresses)
  return async () => {
    await peers.close()
  }
}
