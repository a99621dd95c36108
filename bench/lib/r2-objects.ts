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

function eachBucket<T>(persistTo: string, read: (db: DatabaseSync) => T): T[] {
  const dir = join(persistTo, 'v3', 'r2', 'miniflare-R2BucketObject')
  if (!existsSync(dir)) return []
  const results: T[] = []
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.sqlite') || file === 'metadata.sqlite') continue
    // A short busy timeout: the runtime may hold a write lock for a moment.
    const db = new DatabaseSync(join(dir, file), { readOnly: true, timeout: 1000 })
    try {
      results.push(read(db))
    } finally {
      db.close()
    }
  }
  return results
}

/** Delivery ids of the non-empty objects under `prefix`, across the persisted buckets. */
export function r2DeliveryIds(persistTo: string, prefix: string): Set<string> {
  const found = new Set<string>()
  eachBucket(persistTo, (db) => {
    const rows = db
      .prepare('SELECT key FROM _mf_objects WHERE key >= ? AND key < ? AND size > 0')
      .all(prefix, `${prefix}\uffff`) as { key: string }[]
    for (const { key } of rows) {
      const id = DELIVERY_ID.exec(key)?.[0]
      if (id) found.add(id)
    }
  })
  return found
}

/** How many non-empty objects are under `prefix` (a key range count, cheap to repeat). */
export function r2ObjectCount(persistTo: string, prefix: string): number {
  return eachBucket(persistTo, (db) => {
    const row = db
      .prepare('SELECT count(*) AS n FROM _mf_objects WHERE key >= ? AND key < ? AND size > 0')
      .get(prefix, `${prefix}\uffff`) as { n: number }
    return row.n
  }).reduce((sum, n) => sum + n, 0)
}
