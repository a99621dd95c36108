/**
 * Worker entry: HTTP through the Hono app, queue batches through the consumers, cron
 * through the scheduled jobs. The organization Durable Object class is exported here.
 */
import { createApp } from './app'
import type { ServiceEnv } from './env'

export { OrganizationDurableObject } from './durable-objects/organization'

const app = createApp()

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<ServiceEnv>
