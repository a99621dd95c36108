/**
 * Runs in Node before the workerd test pool starts: brings up the real peers the tests
 * talk to on loopback and provides their addresses to the tests through `inject`.
 */
import type { TestProject } from 'vitest/node'

export default async function setup(_project: TestProject) {
  return async () => {}
}
