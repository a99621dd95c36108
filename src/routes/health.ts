/** Liveness and readiness. Readiness touches D1, the queue binding and R2. */
import { createRoute, z } from '@hono/zod-openapi'
import { createRouter } from '../lib/router'

const router = createRouter()

/** A queue probe's success is reused for this long, so an open route cannot flood the queue. */
const QUEUE_PROBE_TTL_MS = 10_000
const lastQueueProbe = new WeakMap<Queue, number>()

/** Sends a probe message (acknowledged by the consumer without work) at most once per TTL per isolate. */
async function probeQueue(queue: Queue): Promise<void> {
  if (Date.now() - (lastQueueProbe.get(queue) ?? 0) < QUEUE_PROBE_TTL_MS) return
  await queue.send({ kind: 'probe' })
  lastQueueProbe.set(queue, Date.now())
}

const LivenessSchema = z.object({ status: z.literal('ok') }).openapi('Liveness')
const ReadinessSchema = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })),
  })
  .openapi('Readiness')

router.openapi(
  createRoute({
    method: 'get',
    path: '/healthz',
    tags: ['health'],
    summary: 'Liveness: the Worker answers',
    security: [],
    responses: {
      200: { description: 'Alive', content: { 'application/json': { schema: LivenessSchema } } },
    },
  }),
  (c) => c.json({ status: 'ok' as const }, 200),
)

router.openapi(
  createRoute({
    method: 'get',
    path: '/readyz',
    tags: ['health'],
    summary: 'Readiness: D1, the delivery queue and R2 answer',
    security: [],
    responses: {
      200: { description: 'Ready', content: { 'application/json': { schema: ReadinessSchema } } },
      503: {
        description: 'A dependency failed',
        content: { 'application/json': { schema: ReadinessSchema } },
      },
    },
  }),
  async (c) => {
    const checks: Record<string, { ok: boolean; error?: string }> = {}
    const probe = async (name: string, run: () => Promise<unknown>) => {
      try {
        await run()
        checks[name] = { ok: true }
      } catch (error) {
        checks[name] = { ok: false, error: (error as Error).name }
      }
    }
    await Promise.all([
      probe('d1', () => c.env.DB.prepare('SELECT 1').first()),
      probe('r2', () => c.env.ARTIFACTS.head('readiness-probe')),
      probe('queue', () => probeQueue(c.env.DELIVERY_QUEUE)),
    ])
    const ready = Object.values(checks).every((check) => check.ok)
    return c.json(
      { status: ready ? ('ready' as const) : ('not_ready' as const), checks },
      ready ? 200 : 503,
    )
  },
)

export const healthRoutes = router
