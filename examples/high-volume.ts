/**
 * The seed's "Batch Processing Implementation" (high-volume processing), run against the
 * local service (`npm start`, then `npm run example:volume`): 100,000 events across 10
 * organizations, in batches of 1,000, grouped per organization and per destination set
 * into bulk deliveries, which `BatchDeliveryProcessor` sends through
 * `POST /v1/deliveries/batch`. The class is the seed's, with these differences:
 *
 * - the client takes the service's URL and one API key per organization; the ten
 *   organizations and the destinations the seed's events name (`default`,
 *   `security-webhook`, `compliance-email`) are created first, on the local peers;
 *   `local.instrument` lets a re-run reuse them by label and remembers what was sent;
 * - the seed logs "Processed N events" on every event while N is a multiple of 10,000
 *   (also before the first batch); a progress bar shows the count instead;
 * - `processBatch` reports a failed organization batch to its caller, which counts it,
 *   instead of letting `Promise.allSettled` drop it unseen;
 * - types are spelled out for strict TypeScript.
 *
 * After the run every bulk delivery is followed to its destinations, and the events they
 * carry are counted: all 100,000, each exactly once.
 */
import {
  BatchDeliveryProcessor,
  createDeliveryMetricsCollector,
  createDeliveryPerformanceMonitor,
  createDeliveryService,
  type DeliveryMetricsCollector,
  type DeliveryPerformanceMonitor,
  type DeliveryService,
} from 'audit-delivery-service/client'
import { progressBar } from '../scripts/demo/progress.ts'
import { connectLocalStack, reportChecks } from './support/local-stack.ts'

const EVENT_COUNT = 100_000
const ORGANIZATIONS = Array.from({ length: 10 }, (_, index) => `org-${index}`)

interface RawAuditEvent {
  id: string
  organizationId: string
  timestamp: string
  userId: string
  action: string
  resource: string
  type: string
  severity?: string
  source?: string
  outcome: string
  sessionId?: string
  details?: unknown
}

interface TransformedEvent {
  organizationId: string
  destinations: string[]
  payload: {
    type: string
    data: Record<string, unknown>
    metadata: { eventType: string; severity?: string; source?: string }
  }
  options: { priority: number; correlationId?: string; tags: string[] }
}

const progress = progressBar('events', EVENT_COUNT)

class HighVolumeAuditProcessor {
  private batchProcessor: BatchDeliveryProcessor
  private metricsCollector: DeliveryMetricsCollector
  private performanceMonitor: DeliveryPerformanceMonitor

  constructor(deliveryService: DeliveryService) {
    this.batchProcessor = new BatchDeliveryProcessor(deliveryService)
    this.metricsCollector = createDeliveryMetricsCollector({
      enabled: true,
      collectInterval: 10000,
    })
    this.performanceMonitor = createDeliveryPerformanceMonitor({
      enabled: true,
      sampleRate: 0.1,
    })
  }

  async processAuditEventStream(eventStream: AsyncIterable<RawAuditEvent>) {
    const batchSize = 1000
    const batch: TransformedEvent[] = []
    let processedCount = 0
    let errorCount = 0

    const timer = this.performanceMonitor.startTimer('batch-stream-processing')

    try {
      for await (const event of eventStream) {
        batch.push(this.transformAuditEvent(event))

        if (batch.length >= batchSize) {
          try {
            await this.processBatch(batch.splice(0, batchSize))
            processedCount += batchSize
            this.metricsCollector.recordBatchProcessed(batchSize)
          } catch (error) {
            errorCount += batchSize
            this.metricsCollector.recordBatchError()
            console.error('Batch processing failed:', error)
          }
          progress.update(processedCount, `${errorCount} errors`)
        }
      }

      // Process remaining events
      if (batch.length > 0) {
        await this.processBatch(batch)
        processedCount += batch.length
      }

      return {
        totalProcessed: processedCount,
        totalErrors: errorCount,
        successRate: ((processedCount - errorCount) / processedCount) * 100,
      }
    } finally {
      timer.end()
    }
  }

  /** What the run measured: its own counters and the processor's. */
  stats() {
    return {
      metrics: this.metricsCollector.snapshot(),
      performance: this.performanceMonitor.summary(),
      batches: this.batchProcessor.stats(),
    }
  }

  private transformAuditEvent(rawEvent: RawAuditEvent): TransformedEvent {
    return {
      organizationId: rawEvent.organizationId,
      destinations: this.selectDestinations(rawEvent),
      payload: {
        type: 'audit-event',
        data: {
          eventId: rawEvent.id,
          timestamp: rawEvent.timestamp,
          userId: rawEvent.userId,
          action: rawEvent.action,
          resource: rawEvent.resource,
          outcome: rawEvent.outcome,
          details: rawEvent.details,
        },
        metadata: {
          eventType: rawEvent.type,
          severity: rawEvent.severity,
          source: rawEvent.source,
        },
      },
      options: {
        priority: this.calculatePriority(rawEvent),
        correlationId: rawEvent.sessionId,
        tags: this.generateTags(rawEvent),
      },
    }
  }

  private selectDestinations(event: RawAuditEvent): string[] {
    const destinations = ['default']

    // Add specific destinations based on event characteristics
    if (event.severity === 'high' || event.type === 'security-event') {
      destinations.push('security-webhook')
    }

    if (event.type === 'phi-access') {
      destinations.push('compliance-email')
    }

    return destinations
  }

  private calculatePriority(event: RawAuditEvent): number {
    const priorityMap: Record<string, number> = {
      'security-event': 10,
      'phi-access': 9,
      'admin-action': 7,
      'user-action': 5,
      'system-event': 3,
    }
    return priorityMap[event.type] || 5
  }

  private generateTags(event: RawAuditEvent): string[] {
    const tags = ['batch-processed', event.type]

    if (event.severity) {
      tags.push(`severity-${event.severity}`)
    }

    if (event.source) {
      tags.push(`source-${event.source}`)
    }

    return tags
  }

  private async processBatch(batch: TransformedEvent[]) {
    // Group by organization for efficient processing
    const groupedBatch = this.groupByOrganization(batch)

    const promises = Object.entries(groupedBatch).map(([orgId, events]) =>
      this.processOrganizationBatch(orgId, events),
    )

    // Every organization gets its turn; a failure is then reported, not dropped.
    const settled = await Promise.allSettled(promises)
    const failed = settled.find((result) => result.status === 'rejected')
    if (failed) throw failed.reason
  }

  private groupByOrganization(batch: TransformedEvent[]) {
    return batch.reduce<Record<string, TransformedEvent[]>>((groups, event) => {
      const orgId = event.organizationId
      if (!groups[orgId]) {
        groups[orgId] = []
      }
      groups[orgId].push(event)
      return groups
    }, {})
  }

  private async processOrganizationBatch(organizationId: string, events: TransformedEvent[]) {
    // Further group by destination for bulk delivery
    const destinationGroups = this.groupByDestinations(events)

    for (const [destinations, groupedEvents] of Object.entries(destinationGroups)) {
      await this.deliverBulkEvents(organizationId, destinations.split(','), groupedEvents)
    }
  }

  private groupByDestinations(events: TransformedEvent[]) {
    return events.reduce<Record<string, TransformedEvent[]>>((groups, event) => {
      const destKey = event.destinations.sort().join(',')
      if (!groups[destKey]) {
        groups[destKey] = []
      }
      groups[destKey].push(event)
      return groups
    }, {})
  }

  private async deliverBulkEvents(
    organizationId: string,
    destinations: string[],
    events: TransformedEvent[],
  ) {
    // Create bulk payload
    const bulkPayload = {
      type: 'bulk-audit-events',
      data: {
        eventCount: events.length,
        events: events.map((e) => e.payload.data),
        batchId: `batch-${Date.now()}-${Math.random().toString(36).slice(2, 11)}`,
        processedAt: new Date().toISOString(),
      },
      metadata: {
        batchSize: events.length,
        organizationId,
        eventTypes: [...new Set(events.map((e) => e.payload.metadata.eventType))],
      },
    }

    return await this.batchProcessor.addToBatch({
      organizationId,
      destinations,
      payload: bulkPayload,
      options: {
        priority: Math.max(...events.map((e) => e.options.priority)),
        correlationId: `bulk-${organizationId}-${Date.now()}`,
        tags: ['bulk-delivery', 'high-volume', ...new Set(events.flatMap((e) => e.options.tags))],
      },
    })
  }
}

// Setup: the ten organizations, each with the destinations the events name.
const local = await connectLocalStack('high-volume')
await local.ensureBuckets(['high-volume-audit-archive'])
const apiKeys = await local.provision(
  ORGANIZATIONS.map((id) => ({ id, name: `Organization ${id.slice(4)}` })),
)
const deliveryService = local.instrument(createDeliveryService({ baseUrl: local.baseUrl, apiKeys }))
for (const organizationId of ORGANIZATIONS) {
  await deliveryService.createDestination({
    organizationId,
    label: 'audit-archive',
    type: 'storage',
    isDefault: true,
    config: {
      storage: {
        provider: 's3',
        config: local.s3({ region: 'us-east-1', bucket: 'high-volume-audit-archive' }),
        path: '{organizationId}/{year}/{month}/{day}/{hour}',
      },
    },
  })
  await deliveryService.createDestination({
    organizationId,
    label: 'security-webhook',
    type: 'webhook',
    config: {
      webhook: {
        url: local.webhookUrl(`https://soc.${organizationId}.example.com/security-events`),
      },
    },
  })
  await deliveryService.createDestination({
    organizationId,
    label: 'compliance-email',
    type: 'email',
    config: {
      email: local.email({
        service: 'ses',
        from: `audit@${organizationId}.example.com`,
        recipients: [`compliance@${organizationId}.example.com`],
        subject: '[{{organizationId}}] {{eventCount}} audit events',
      }),
    },
  })
}

// Usage example
const processor = new HighVolumeAuditProcessor(deliveryService)

// Process a stream of audit events (could be from Kafka, database, etc.)
async function* generateAuditEventStream(): AsyncGenerator<RawAuditEvent> {
  // Simulate high-volume event stream
  for (let i = 0; i < EVENT_COUNT; i++) {
    yield {
      id: `event-${i}`,
      organizationId: `org-${i % 10}`, // 10 different organizations
      timestamp: new Date().toISOString(),
      userId: `user-${i % 1000}`,
      action: ['read', 'write', 'delete'][i % 3] as string,
      resource: `resource-${i % 100}`,
      type: ['user-action', 'admin-action', 'system-event'][i % 3] as string,
      severity: ['low', 'medium', 'high'][i % 3] as string,
      source: 'ehr-system',
      outcome: 'success',
    }
  }
}

const eventStream = generateAuditEventStream()
const result = await processor.processAuditEventStream(eventStream)
progress.finish(`${result.totalErrors} errors`)

console.log(`Processing complete:`)
console.log(`- Total processed: ${result.totalProcessed}`)
console.log(`- Total errors: ${result.totalErrors}`)
console.log(`- Success rate: ${result.successRate.toFixed(2)}%`)

// Checks: every bulk delivery reached its destinations, and together they carry every event once.
const { metrics, performance, batches } = processor.stats()
const bulk = local.sentDeliveries()
const eventIds = new Set<string>()
let carried = 0
for (const { payload } of bulk) {
  const events = (payload.data as { events: Array<{ eventId: string }> }).events
  carried += events.length
  for (const event of events) eventIds.add(event.eventId)
}

const checking = progressBar('checks', bulk.length * 2)
const summary = await local.verifySent((done) => checking.update(done))
checking.finish()
if (carried !== EVENT_COUNT || eventIds.size !== EVENT_COUNT)
  summary.failures.push(
    `the bulk deliveries carry ${carried} events, ${eventIds.size} distinct; ${EVENT_COUNT} were generated`,
  )

const streamTime = performance['batch-stream-processing']
reportChecks('High-volume processing', summary, [
  `${EVENT_COUNT.toLocaleString('en')} events from ${ORGANIZATIONS.length} organizations in batches of 1,000 → ${bulk.length} bulk deliveries carrying ${carried.toLocaleString('en')} events (${eventIds.size.toLocaleString('en')} distinct)`,
  `BatchDeliveryProcessor: ${batches.batchesSent} batch requests, ${batches.itemsAccepted} accepted, ${batches.itemsRejected} rejected, at most ${batches.peakInFlightBatches} in flight`,
  `throughput: ${Math.round(metrics.eventsPerSecond).toLocaleString('en')} events/s over ${(metrics.elapsedMs / 1000).toFixed(1)} s${streamTime ? ` (stream timer sampled: ${Math.round(streamTime.max)} ms)` : ''}`,
])
await local.close()
