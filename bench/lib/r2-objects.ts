/**
 * What the local R2 bucket holds, read from the simulator's own files: under
 * `wrangler dev --persist-to <dir>`, each bucket keeps its object index in a SQLite file
 * under `v3/r2/miniflare-R2BucketObject/` (table `_mf_objects`). Reading it from outside
 * proves an object was written without asking the service. Read-only; the runtime keeps
 * writing meanwhile (SQLite WAL allows that).
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'

const DELIVERY_ID = /dlv_[a-z2-7]{20}/

/** Delivery ids of the non-empty objects under `prefix`, across the persisted buckets. */
export function r2DeliveryIds(persistTo: string, prefix: string): Set<string> {
  const dir = join(persistTo, 'v3', 'r2', 'miniflare-R2BucketObject')
  const found = new Set<string>()
  if (!existsSync(dir)) return found
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.sqlite') || file === 'metadata.sqlite') continue
    const db = new DatabaseSync(join(dir, file), { readOnly: true })
    try {
      const rows = db
        .prepare('SELECT key FROM _mf_objects WHERE key >= ? AND key < ? AND size > 0')
        .all(prefix, `${prefix}\uffff`) as { key: string }[]
      for (const { key } of rows) {
        const id = DELIVERY_ID.exec(key)?.[0]
        if (id) found.add(id)
      }
    } finally {
      db.close()
    }
  }
  return found
}
