/**
 * Waits until every accepted delivery has been seen where it was sent (a verified
 * webhook request, an object in R2), or until the time is up. The clock is the caller's:
 * it started when the first event was sent. Counting is cheap and runs often; the exact
 * check of every id runs once the counts say everything may be there.
 */

export interface Expectation {
  name: string
  /** Delivery ids that must arrive. */
  expected: Set<string>
  /** How many arrived so far (cheap; may count things other than expected ids). */
  count: () => number
  /** Delivery ids seen so far at the receiving end (exact; may be slow). */
  seen: () => Set<string>
}

export interface Verification {
  complete: boolean
  /** Seconds from `startedAt` to the moment the last one was seen (or to the timeout). */
  seconds: number
  expected: number
  missing: number
  missingBy: Record<string, number>
  /** When incomplete: what the service says of some missing deliveries' destinations. */
  missingStates?: Record<string, number>
}

function missingOf(expectation: Expectation): number {
  const seen = expectation.seen()
  let missing = 0
  for (const id of expectation.expected) if (!seen.has(id)) missing += 1
  return missing
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function waitForArrivals(
  expectations: Expectation[],
  startedAt: number,
  timeoutMs: number,
  onProgress?: (arrived: number, expected: number) => void,
): Promise<Verification> {
  const expected = expectations.reduce((n, e) => n + e.expected.size, 0)
  const deadline = startedAt + timeoutMs
  let lastReport = performance.now()
  let lastExactCheck = 0
  const result = (complete: boolean, missingBy: Record<string, number>): Verification => ({
    complete,
    seconds: Math.round((performance.now() - startedAt) / 10) / 100,
    expected,
    missing: Object.values(missingBy).reduce((n, m) => n + m, 0),
    missingBy,
  })
  while (true) {
    const arrived = expectations.reduce((n, e) => n + Math.min(e.count(), e.expected.size), 0)
    const now = performance.now()
    const mayBeDone = arrived >= expected
    if ((mayBeDone && now - lastExactCheck > 2000) || now >= deadline) {
      lastExactCheck = now
      const missingBy = Object.fromEntries(expectations.map((e) => [e.name, missingOf(e)]))
      const missing = Object.values(missingBy).reduce((n, m) => n + m, 0)
      if (missing === 0 || now >= deadline) return result(missing === 0, missingBy)
    }
    if (onProgress && now - lastReport > 10_000) {
      onProgress(arrived, expected)
      lastReport = now
    }
    await sleep(250)
  }
}
