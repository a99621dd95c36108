/**
 * Worker entry: HTTP through the Hono app, queue batches through the consumers, cron
 * through the scheduled jobs. The organization Durable Object class is exported here.
 */
import { createApp } from './app'
import type { QueueMessage } from './delivery/messages'
import type { ServiceEnv } from './env'
import { consumeDeadLetters } from './queues/dead-letter-consumer'
import { consumeDeliveries } from './queues/delivery-consumer'
import { runScheduledJobs } from './scheduled'

export { OrganizationDurableObject } from './durable-objects/organization'

const app = createApp()

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  async queue(batch, env) {
    // Queue names may carry a per-environment suffix; the dead-letter queue ends in -dlq.
    if (batch.queue.endsWith('-dlq')) await consumeDeadLetters(batch, env)
    else await consumeDeliveries(batch, env)
  },
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduledJobs(env, new Date(controller.scheduledTime)))
  },
} satisfies ExportedHandler<ServiceEnv, QueueMessage>
