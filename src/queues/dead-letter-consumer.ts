/**
 * Consumer of the dead-letter queue: the queue's own safety net. Whatever exhausted the
 * queue's retries is recorded in D1 for audit and handed back to the organization's
 * object, which counts it as a failed attempt and retries or settles it.
 */
import type { QueueMessage } from '../delivery/messages'
import { organizationStub } from '../durable-objects/organization-stub'
import type { ServiceEnv } from '../env'
import { newId } from '../lib/ids'
import { log } from '../lib/logger'

export async function consumeDeadLetters(
  batch: MessageBatch<QueueMessage>,
  env: ServiceEnv,
): Promise<void> {
  for (const message of batch.messages) {
    const body = message.body
    if (body.kind !== 'attempt') {
      message.ack()
      continue
    }
    try {
      await env.DB.prepare(
        'INSERT INTO dead_letters (id, organization_id, delivery_id, destination_id, attempts, received_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
        .bind(
          newId('deadLetter'),
          body.organizationId,
          body.deliveryId,
          body.destinationId,
          message.attempts,
          new Date().toISOString(),
        )
        .run()
      await organizationStub(env, body.organizationId).recordDeadLetter(body)
      log.warn({
        event: 'dead_letter',
        organizationId: body.organizationId,
        deliveryId: body.deliveryId,
        destinationId: body.destinationId,
      })
      message.ack()
    } catch (error) {
      log.error({
        event: 'dead_letter_failed',
        organizationId: body.organizationId,
        error: (error as Error).message,
      })
      message.retry({ delaySeconds: 30 })
    }
  }
}
