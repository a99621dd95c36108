/**
 * Consumer of the delivery queues: one attempt per message, each settled on its own.
 * Results go back to each organization's object in one call per organization per batch;
 * a message is acknowledged only after its result is recorded there, and retried by the
 * queue otherwise, so an attempt is never lost between the handler and the record.
 * Once recorded, the batch's attempts and their verdicts go to the metrics in one write.
 * Logs: one summary line per batch, and a line of its own for every attempt that did not
 * deliver; the attempts themselves are recorded in the organization's object.
 */
import { buildEnvelope, messageIdFor } from '../delivery/envelope'
import type { AttemptMessage, QueueMessage } from '../delivery/messages'
import { openPayload, type PayloadTexts } from '../delivery/payload'
import type { AttemptReport } from '../durable-objects/organization/outbox'
import { organizationStub } from '../durable-objects/organization-stub'
import type { ServiceEnv } from '../env'
import { handlerFor } from '../handlers'
import type { Outcome } from '../handlers/types'
import { log } from '../lib/logger'
import { recordMetricEvents } from '../services/metrics/recorder'
import type { MetricEvent } from '../services/metrics/rollup'
import { loadDestinationCached } from './destination-cache'

/** Delay before the queue redelivers a message whose result could not be recorded. */
const REPORT_RETRY_SECONDS = 5

export async function consumeDeliveries(
  batch: MessageBatch<QueueMessage>,
  env: ServiceEnv,
): Promise<void> {
  const started = Date.now()
  const payloads: PayloadMemo = new Map()
  const pending: {
    message: Message<QueueMessage>
    report: AttemptReport
    organizationId: string
    destinationType: string
  }[] = []
  await Promise.all(
    batch.messages.map(async (message) => {
      const body = message.body
      if (body.kind !== 'attempt') {
        message.ack()
        return
      }
      const { report, destinationType } = await attempt(body, env, payloads)
      pending.push({ message, report, organizationId: body.organizationId, destinationType })
    }),
  )
  const byOrganization = Map.groupBy(pending, (entry) => entry.organizationId)
  const metrics: MetricEvent[] = []
  let unrecorded = 0
  await Promise.all(
    [...byOrganization].map(async ([organizationId, entries]) => {
      try {
        const verdicts = await organizationStub(env, organizationId).recordAttempts(
          entries.map((entry) => entry.report),
        )
        for (const entry of entries) entry.message.ack()
        entries.forEach(({ report, destinationType }, index) => {
          metrics.push({
            kind: 'attempt',
            organizationId,
            destinationId: report.destinationId,
            destinationType,
            atMs: Date.parse(report.startedAt) + report.durationMs,
            durationMs: report.durationMs,
            verdict: verdicts[index] ?? 'ignored',
          })
        })
      } catch (error) {
        log.error({
          event: 'attempt_report_failed',
          organizationId,
          error: (error as Error).message,
          messages: entries.length,
        })
        for (const entry of entries) entry.message.retry({ delaySeconds: REPORT_RETRY_SECONDS })
        unrecorded += entries.length
      }
    }),
  )
  await recordMetricEvents(env, metrics)
  log.info({
    event: 'delivery_batch',
    queue: batch.queue,
    messages: batch.messages.length,
    ...countOutcomes(pending.map((entry) => entry.report.outcome)),
    organizations: byOrganization.size,
    unrecorded,
    durationMs: Date.now() - started,
  })
}

/** How many attempts of a batch ended each way, for its summary line. */
function countOutcomes(outcomes: readonly Outcome[]): {
  delivered: number
  retryable: number
  permanent: number
} {
  const counts = { delivered: 0, retryable: 0, permanent: 0 }
  for (const outcome of outcomes) counts[outcome.kind] += 1
  return counts
}

/**
 * Payloads opened during one batch, by delivery: a delivery to several destinations
 * usually arrives as neighbouring messages of one batch, and is decrypted once. It lives
 * only as long as the batch, so it holds nothing between invocations.
 */
type PayloadMemo = Map<string, Promise<PayloadTexts | null>>

/** Makes one attempt; every failure becomes an outcome value, never an exception. */
async function attempt(
  message: AttemptMessage,
  env: ServiceEnv,
  payloads: PayloadMemo,
): Promise<{ report: AttemptReport; destinationType: string }> {
  const started = Date.now()
  let outcome: Outcome
  let destinationType = 'unknown'
  try {
    const destination = await loadDestinationCached(
      env,
      message.organizationId,
      message.destinationId,
      message.destinationVersion,
    )
    if (!destination) {
      outcome = {
        kind: 'permanent',
        code: 'destination_deleted',
        message: 'The destination no longer exists',
      }
    } else {
      destinationType = destination.type
      const payload = await loadPayloadOnce(env, message, payloads)
      if (!payload) {
        outcome = {
          kind: 'permanent',
          code: 'payload_missing',
          message: 'The stored payload could not be found',
        }
      } else {
        const envelope = buildEnvelope({
          deliveryId: message.deliveryId,
          payloadType: message.payloadType,
          acceptedAt: message.acceptedAt,
          organizationId: message.organizationId,
          sequence: message.sequence,
          data: payload.data,
          metadata: payload.metadata,
          correlationId: message.correlationId,
          tags: message.tags,
        })
        const job = {
          organizationId: message.organizationId,
          deliveryId: message.deliveryId,
          destinationId: message.destinationId,
          messageId: messageIdFor(message.deliveryId, message.destinationId),
          sequence: message.sequence,
          acceptedAt: message.acceptedAt,
          attempt: message.attempt,
          payloadType: message.payloadType,
          correlationId: message.correlationId,
          tags: message.tags,
          data: payload.data,
          metadata: payload.metadata,
          envelope,
          requestId: message.requestId,
        }
        outcome = await handlerFor(destination)(job, destination, env)
      }
    }
  } catch (error) {
    log.error({
      event: 'handler_error',
      organizationId: message.organizationId,
      deliveryId: message.deliveryId,
      destinationId: message.destinationId,
      error: (error as Error).message,
      stack: (error as Error).stack,
    })
    outcome = {
      kind: 'retryable',
      code: 'handler_error',
      message: 'The delivery handler failed unexpectedly',
    }
  }
  const durationMs = Date.now() - started
  // Deliveries are counted in the batch's summary line; what did not deliver is logged on its own.
  if (outcome.kind !== 'delivered')
    log.warn({
      event: 'delivery_attempt',
      requestId: message.requestId ?? undefined,
      organizationId: message.organizationId,
      deliveryId: message.deliveryId,
      destinationId: message.destinationId,
      attempt: message.attempt,
      outcome: outcome.kind,
      code: outcome.code,
      status: outcome.httpStatus,
      durationMs,
    })
  return {
    destinationType,
    report: {
      deliveryId: message.deliveryId,
      destinationId: message.destinationId,
      lease: message.lease,
      attempt: message.attempt,
      startedAt: new Date(started).toISOString(),
      durationMs,
      outcome,
    },
  }
}

function loadPayloadOnce(
  env: ServiceEnv,
  message: AttemptMessage,
  payloads: PayloadMemo,
): Promise<PayloadTexts | null> {
  const key = `${message.organizationId}/${message.deliveryId}`
  let payload = payloads.get(key)
  if (!payload) {
    payload = loadPayload(env, message)
    payloads.set(key, payload)
  }
  return payload
}

async function loadPayload(env: ServiceEnv, message: AttemptMessage): Promise<PayloadTexts | null> {
  if (message.payload !== null) return openPayload(env.ENCRYPTION_KEYS, message.payload)
  if (message.payloadRef === null) return null
  const object = await env.ARTIFACTS.get(message.payloadRef)
  return object ? openPayload(env.ENCRYPTION_KEYS, await object.text()) : null
}
