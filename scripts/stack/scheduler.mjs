/**
 * Fires the Worker's scheduled handler once a minute, at the start of each minute as the
 * `* * * * *` trigger in wrangler.toml would. The local runtime never runs cron triggers;
 * `wrangler dev --test-scheduled` exposes `/__scheduled` so that a caller can.
 */
const CRON = '* * * * *'
const MINUTE_MS = 60_000

/** Starts the timer; returns a function that stops it. */
export function startScheduler(apiUrl, log) {
  const url = `${apiUrl}/__scheduled?cron=${encodeURIComponent(CRON).replaceAll('%20', '+')}`
  let timer
  let stopped = false
  let lastProblem = null

  const fire = async () => {
    let problem = null
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(30_000) })
      await response.body?.cancel()
      if (!response.ok) problem = `answered ${response.status}`
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error)
    }
    // One line per change, not one per minute; a call cut short by shutdown is not news.
    if (!stopped && problem !== lastProblem) {
      log(problem ? `scheduled handler ${problem} (${url})` : 'scheduled handler runs again')
      lastProblem = problem
    }
  }

  const next = () => {
    timer = setTimeout(
      () => {
        void fire()
        next()
      },
      MINUTE_MS - (Date.now() % MINUTE_MS),
    )
  }
  next()
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}
