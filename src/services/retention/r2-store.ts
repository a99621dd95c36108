/** Retention's view of an R2 storage destination: the bound bucket, under the tenant's prefix. */
import { r2Keys } from '../../lib/r2-keys'
import type { ObjectStore } from './object-store'

export function r2Store(bucket: R2Bucket, organizationId: string): ObjectStore {
  // Everything the tenant's R2 destinations write sits under this prefix, and nothing else.
  const base = r2Keys.storageObject(organizationId, '')
  return {
    async list(prefix, startAfter, limit) {
      const listing = await bucket.list({
        prefix: `${base}${prefix}`,
        ...(startAfter === null ? {} : { startAfter: `${base}${startAfter}` }),
        limit,
      })
      return {
        objects: listing.objects.map((object) => ({
          key: object.key.slice(base.length),
          lastModifiedMs: object.uploaded.getTime(),
        })),
        truncated: listing.truncated,
      }
    },
    async remove(keys) {
      if (keys.length > 0) await bucket.delete(keys.map((key) => `${base}${key}`))
    },
  }
}
