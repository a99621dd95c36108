/**
 * `BatchDeliveryProcessor`, as the seed's high-volume example uses it: `addToBatch` queues
 * one delivery and returns a promise for its own result; items are sent through
 * `POST /v1/deliveries/batch`, one organization per request (the API key's), when a
 * batch is full (at most 1,000) or its oldest item has waited `flushIntervalMs`. At most
 * `maxInFlightBatches` requests run at once, and once `maxPendingItems` items are
 * buffered or in flight, `addToBatch` waits for room: a fast producer is slowed to the
 * pace the service accepts.
 */
import { DeliveryServiceError, statusOfCode } from './errors.ts'
import type { DeliveryService } from './service.ts'
import type { DeliverRequest } from './types.ts'

/** The API's limit of deliveries per batch request. */
export const MAX_BATCH_SIZE = 1000

export interface BatchDeliveryProcessorOptions {
  /** Items per request, 1 to 1,000. Default 1000. */
  maxBatchSize?: number
  /** How long the oldest item of a batch waits for company. Default 25 ms. */
  flushIntervalMs?: number
  /** Batch requests in flight at once. Default 8. */
  maxInFlightBatches?: number
  /** Items buffered or in flight before `addToBatch` waits. Default maxBatchSize × (maxInFlightBatches + 1). */
  maxPendingItems?: number
}

/** What an item's promise resolves to once its batch was answered. */
export interface BatchItemReceipt {
  organizationId: string | null
  status: 'accepted' | 'duplicate'
  deliveryId: string
  sequence: number
}

export interface BatchProcessorStats {
  /** Items buffered or in flight now. */
  pending: number
  inFlightBatches: number
  batchesSent: number
  itemsAccepted: number
  itemsRejected: number
  /** The most batch requests that were ever in flight at once. */
  peakInFlightBatches: number
}

interface Entry {
  item: DeliverRequest
  resolve(receipt: BatchItemReceipt): void
  reject(error: unknown): void
}

interface Buffer {
  entries: Entry[]
  timer: ReturnType<typeof setTimeout> | null
}

export class BatchDeliveryProcessor {
  private readonly service: Pick<DeliveryService, 'deliverBatch'>
  private readonly maxBatchSize: number
  private readonly flushIntervalMs: number
  private readonly maxInFlightBatches: number
  private readonly maxPendingItems: number
  /** Buffers by organization id ('' for items that name none: the key's own). */
  private readonly buffers = new Map<string, Buffer>()
  private readonly slotWaiters: Array<() => void> = []
  private readonly roomWaiters: Array<() => void> = []
  private readonly inFlight = new Set<Promise<void>>()
  private pending = 0
  private activeSlots = 0
  private batchesSent = 0
  private itemsAccepted = 0
  private itemsRejected = 0
  private peakInFlight = 0

  constructor(
    service: Pick<DeliveryService, 'deliverBatch'>,
    options: BatchDeliveryProcessorOptions = {},
  ) {
    this.service = service
    this.maxBatchSize = options.maxBatchSize ?? MAX_BATCH_SIZE
    if (!Number.isInteger(this.maxBatchSize) || this.maxBatchSize < 1)
      throw new RangeError('maxBatchSize must be an integer of at least 1')
    if (this.maxBatchSize > MAX_BATCH_SIZE)
      throw new RangeError(`maxBatchSize must be at most ${MAX_BATCH_SIZE}, the API's limit`)
    this.flushIntervalMs = options.flushIntervalMs ?? 25
    this.maxInFlightBatches = Math.max(1, options.maxInFlightBatches ?? 8)
    this.maxPendingItems = Math.max(
      this.maxBatchSize,
      options.maxPendingItems ?? this.maxBatchSize * (this.maxInFlightBatches + 1),
    )
  }

  /** Queues one delivery; resolves with its receipt, rejects with its `DeliveryServiceError`. */
  async addToBatch(item: DeliverRequest): Promise<BatchItemReceipt> {
    while (this.pending >= this.maxPendingItems)
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve))
    this.pending += 1
    return new Promise<BatchItemReceipt>((resolve, reject) => {
      const organization = item.organizationId ?? ''
      let buffer = this.buffers.get(organization)
      if (!buffer) {
        buffer = { entries: [], timer: null }
        this.buffers.set(organization, buffer)
      }
      buffer.entries.push({ item, resolve, reject })
      if (buffer.entries.length >= this.maxBatchSize) this.send(organization)
      else if (!buffer.timer)
        buffer.timer = setTimeout(() => this.send(organization), this.flushIntervalMs)
    })
  }

  /** Sends everything buffered now and waits until every batch in flight is answered. */
  async flush(): Promise<void> {
    for (const organization of [...this.buffers.keys()]) this.send(organization)
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
  }

  stats(): BatchProcessorStats {
    return {
      pending: this.pending,
      inFlightBatches: this.activeSlots,
      batchesSent: this.batchesSent,
      itemsAccepted: this.itemsAccepted,
      itemsRejected: this.itemsRejected,
      peakInFlightBatches: this.peakInFlight,
    }
  }

  /** Takes one batch off an organization's buffer and sends it once a slot is free. */
  private send(organization: string): void {
    const buffer = this.buffers.get(organization)
    if (!buffer) return
    if (buffer.timer) clearTimeout(buffer.timer)
    const entries = buffer.entries.splice(0, this.maxBatchSize)
    if (buffer.entries.length === 0) this.buffers.delete(organization)
    else buffer.timer = setTimeout(() => this.send(organization), this.flushIntervalMs)
    if (entries.length === 0) return

    const request = this.dispatch(organization, entries)
    this.inFlight.add(request)
    void request.finally(() => this.inFlight.delete(request))
  }

  private async dispatch(organization: string, entries: Entry[]): Promise<void> {
    await this.acquireSlot()
    try {
      const { results } = await this.service.deliverBatch(
        entries.map((entry) => entry.item),
        organization === '' ? undefined : { organizationId: organization },
      )
      this.batchesSent += 1
      const byIndex = new Map(results.map((result) => [result.index, result]))
      entries.forEach((entry, index) => {
        const result = byIndex.get(index)
        if (
          result &&
          result.status !== 'rejected' &&
          result.deliveryId !== undefined &&
          result.sequence !== undefined
        ) {
          this.itemsAccepted += 1
          entry.resolve({
            organizationId: organization === '' ? null : organization,
            status: result.status,
            deliveryId: result.deliveryId,
            sequence: result.sequence,
          })
          return
        }
        this.itemsRejected += 1
        const error = result?.error ?? {
          code: 'unexpected_response',
          message: `The batch answer has no result for item ${index}`,
        }
        entry.reject(
          new DeliveryServiceError({
            status: statusOfCode(error.code),
            code: error.code,
            message: error.message,
            details: error.details,
          }),
        )
      })
    } catch (error) {
      this.itemsRejected += entries.length
      for (const entry of entries) entry.reject(error)
    } finally {
      this.releaseSlot()
      this.pending -= entries.length
      for (const wake of this.roomWaiters.splice(0, entries.length)) wake()
    }
  }

  private async acquireSlot(): Promise<void> {
    while (this.activeSlots >= this.maxInFlightBatches)
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve))
    this.activeSlots += 1
    this.peakInFlight = Math.max(this.peakInFlight, this.activeSlots)
  }

  private releaseSlot(): void {
    this.activeSlots -= 1
    this.slotWaiters.shift()?.()
  }
}
