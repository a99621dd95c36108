/**
 * The delivery consumer driven by hand: an organization's releases are captured instead
 * of sent, so a test can hand the consumer exactly the messages the queue would carry,
 * in a batch of its choosing, and read the platform's ack and retry results.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import type { AttemptMessage } from '../../src/delivery/messages'
import worker from '../../src/index'
import { insideOrganization } from './reliability'

/** Captures what an organization's object releases instead of sending it to a queue. */
export async function captureReleases(organizationId: string): Promise<AttemptMessage[]> {
  const captured: AttemptMessage[] = []
  await insideOrganization(organizationId, (instance) => {
    instance.queueSender = async (_queue, batch) => {
      for (const message of batch) captured.push(message.body as AttemptMessage)
    }
  })
  return captured
}

/** Lets the organization's later releases go to the queue again. */
export async function stopCapturing(organizationId: string): Promise<void> {
  await insideOrganization(organizationId, (instance) => {
    instance.queueSender = async (queue, batch) => {
      await queue.sendBatch(batch)
    }
  })
}

/** A platform message batch; message ids are `<deliveryId>-<index in the batch>`. */
export function batchOf(queue: string, messages: AttemptMessage[]) {
  return createMessageBatch<AttemptMessage>(
    queue,
    messages.map((body, index) => ({
      id: `${body.deliveryId}-${index}`,
      timestamp: new Date(),
      attempts: 1,
      body,
    })),
  )
}

/** Runs the Worker's queue handler on a batch and answers what it acked and retried. */
export async function consume(batch: MessageBatch<AttemptMessage>, serviceEnv: typeof env = env) {
  const ctx = createExecutionContext()
  const handler = worker.queue as ExportedHandlerQueueHandler<typeof env, AttemptMessage>
  await handler(batch, serviceEnv, ctx)
  return getQueueResult(batch, ctx)
}
