/**
 * Retention of delivery records in the organization's object. Settled deliveries older
 * than `limits.retentionDays` are archived to R2, sealed, one file per organization and
 * UTC day, and only then deleted from the object. An archive run that stopped halfway is
 * repeated safely: records are merged into the day's file by delivery id.
 */
import { openText, sealText } from '../../lib/at-rest'
import { r2Keys } from '../../lib/r2-keys'

const DAY_MS = 86_400_000
/** Deliveries archived per run, so one alarm stays short; the rest follow in the next run. */
const BATCH = 500

interface ArchivedDelivery {
  deliveryId: string
  [field: string]: unknown
}

export class RetentionArchiver {
  constructor(
    private readonly sql: SqlStorage,
    private readonly bucket: R2Bucket,
    private readonly keys: string | undefined,
  ) {}

  /** Archives and deletes one batch; returns how many deliveries it moved. */
  async archiveExpired(
    organizationId: string,
    now: number,
    retentionDays: number,
  ): Promise<number> {
    const cutoff = now - retentionDays * DAY_MS
    const deliveries = this.sql
      .exec<Record<string, SqlStorageValue> & { id: string; accepted_at: string }>(
        `SELECT * FROM deliveries d WHERE accepted_ms < ? AND NOT EXISTS (
           SELECT 1 FROM targets t WHERE t.delivery_id = d.id AND t.status NOT IN ('delivered', 'failed', 'skipped'))
         ORDER BY accepted_ms LIMIT ?`,
        cutoff,
        BATCH,
      )
      .toArray()
    if (deliveries.length === 0) return 0
    const archived: ArchivedDelivery[] = []
    const byDay = Map.groupBy(deliveries, (row) => row.accepted_at.slice(0, 10))
    for (const [day, rows] of byDay) {
      const records = rows.map((row) => ({
        deliveryId: row.id,
        delivery: row,
        ...this.snapshot(row.id),
      }))
      await this.merge(organizationId, day, records)
      archived.push(...records)
    }
    // The archive was written across awaits, during which a retry, recover or replay may
    // have queued a delivery again or recorded an attempt: only what the file holds as it
    // is now is deleted, the rest waits for a later run. No await from here on, so the
    // check and the deletes are one atomic step.
    let deleted = 0
    for (const record of archived) {
      if (!this.unchangedSince(record)) continue
      this.sql.exec('DELETE FROM attempts WHERE delivery_id = ?', record.deliveryId)
      this.sql.exec('DELETE FROM targets WHERE delivery_id = ?', record.deliveryId)
      this.sql.exec('DELETE FROM deliveries WHERE id = ?', record.deliveryId)
      deleted++
    }
    return deleted
  }

  private snapshot(deliveryId: string) {
    return {
      targets: this.sql.exec('SELECT * FROM targets WHERE delivery_id = ?', deliveryId).toArray(),
      attempts: this.sql.exec('SELECT * FROM attempts WHERE delivery_id = ?', deliveryId).toArray(),
    }
  }

  private unchangedSince(record: ArchivedDelivery): boolean {
    const now = this.snapshot(record.deliveryId)
    return (
      JSON.stringify(now.targets) === JSON.stringify(record.targets) &&
      JSON.stringify(now.attempts) === JSON.stringify(record.attempts)
    )
  }

  /** Reads one day's archive (for tests and exports). */
  async readDay(organizationId: string, day: string): Promise<ArchivedDelivery[]> {
    const object = await this.bucket.get(r2Keys.archive(organizationId, day))
    return object
      ? (JSON.parse(await openText(this.keys, await object.text())) as ArchivedDelivery[])
      : []
  }

  private async merge(
    organizationId: string,
    day: string,
    records: ArchivedDelivery[],
  ): Promise<void> {
    const existing = await this.readDay(organizationId, day)
    const merged = new Map(existing.map((record) => [record.deliveryId, record]))
    for (const record of records) merged.set(record.deliveryId, record)
    const sealed = await sealText(this.keys, JSON.stringify([...merged.values()]))
    await this.bucket.put(r2Keys.archive(organizationId, day), sealed, {
      customMetadata: { organizationId, day },
    })
  }
}
