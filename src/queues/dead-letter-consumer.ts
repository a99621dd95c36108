/**
 * Consumer of the dead-letter queue: the queue's own safety net. Whatever exhausted the
 * queue's retries is recorded in D1 for audit and handed back to the organization's
 * object, which counts it as a failed attempt and retries or settles it. Its verdict goes
 * to the metrics like any attempt's, without a duration (none was measured).
 */
import type { QueueMessage } from '../delivery/messages'
import { organizationStub } from '../durable-objects/organization-stub'
import type { ServiceEnv } from '../env'
import { newId } from '../lib/ids'
import { log } from '../lib/logger'
import { recordMetricEvents } from '../services/metrics/recorder'
import { type MetricEvent, UNKNOWN_TYPE } from '../services/metrics/rollup'
import { loadDestinationCached } from './destination-cache'

export async function consumeDeadLetters(
  batch: MessageBatch<QueueMessage>,
  env: ServiceEnv,
): Promise<void> {
  const metrics: MetricEvent[] = []
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
      const [verdict] = await organizationStub(env, body.organizationId).recordDeadLetter(body)
      // Recorded now: a failed type lookup must not send the message round again.
      const destinationType = await loadDestinationCached(
        env,
        body.organizationId,
        body.destinationId,
        body.destinationVersion,
      ).then(
        (destination) => destination?.type ?? UNKNOWN_TYPE,
        () => UNKNOWN_TYPE,
      )
      metrics.push({
        kind: 'attempt',
        organizationId: body.organizationId,
        destinationId: body.destinationId,
        destinationType,
        atMs: Date.now(),
        durationMs: null,
        verdict: verdict ?? 'ignored',
      })
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
  await recordMetricEvents(env, metrics)
}
