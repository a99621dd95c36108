/**
 * The two operations retention needs from a storage destination's store: list keys in
 * order after a given key, and delete a set of keys. Implemented for S3 (ListObjectsV2 and
 * DeleteObjects through aws4fetch) and for R2 (the bound bucket, under the tenant's prefix).
 */
export interface StoredObject {
  /** The key as the destination's template wrote it (for R2: after the tenant's prefix). */
  key: string
  lastModifiedMs: number
}

export interface ObjectPage {
  objects: StoredObject[]
  /** More keys follow the last one listed. */
  truncated: boolean
}

export interface ObjectStore {
  /** Keys under `prefix` in ascending order, strictly after `startAfter`. */
  list(prefix: string, startAfter: string | null, limit: number): Promise<ObjectPage>
  /** Deletes the keys (at most 1,000); throws when the store refuses any of them. */
  remove(keys: string[]): Promise<void>
}
