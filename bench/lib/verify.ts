/**
 * Waits until every accepted delivery has been seen where it was sent (a verified
 * webhook request, an object in R2), or until the time is up. The clock is the caller's:
 * it started when the first event was sent.
 */

export interface Expectation {
  name: string
  /** Delivery ids that must arrive. */
  expected: Set<string>
  /** Delivery ids seen so far at the receiving end. */
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

export async function waitForArrivals(
  expectations: Expectation[],
  startedAt: number,
  timeoutMs: number,
  onProgress?: (missing: number, expected: number) => void,
): Promise<Verification> {
  const expected = expectations.reduce((n, e) => n + e.expected.size, 0)
  const deadline = startedAt + timeoutMs
  let lastReport = 0
  while (true) {
    const missingBy = Object.fromEntries(expectations.map((e) => [e.name, missingOf(e)]))
    const missing = Object.values(missingBy).reduce((n, m) => n + m, 0)
    const now = performance.now()
    if (missing === 0 || now >= deadline) {
      return {
        complete: missing === 0,
        seconds: Math.round((now - startedAt) / 10) / 100,
        expected,
        missing,
        missingBy,
      }
    }
    if (onProgress && now - lastReport > 10_000) {
      onProgress(missing, expected)
      lastReport = now
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}
