/**
 * Rotation of the at-rest key for stored credentials: every destination's sealed
 * `secrets` column is opened with whichever key of `ENCRYPTION_KEYS` sealed it and sealed
 * again under the first key listed. Rows already under that key are left alone, so a run
 * that stopped halfway is simply run again. Each write is conditional on the row still
 * holding what was read, so a destination changed meanwhile (and therefore sealed under
 * the current key already) is never overwritten with older secrets.
 *
 * Older keys must stay listed after the rotation for what else they sealed (payloads,
 * archives) until those have aged out.
 */
import { and, asc, gt, isNotNull } from 'drizzle-orm'
import { database } from '../db/client'
import { destinations } from '../db/schema'
import type { ServiceEnv } from '../env'
import { currentKeyId, openText, sealedKeyId, sealText } from '../lib/at-rest'
import { log } from '../lib/logger'

/** Rows read and rewritten per D1 batch. */
const PAGE = 50

export interface RekeyResult {
  /** The key every stored credential is now sealed under. */
  keyId: string
  reencrypted: number
  alreadyCurrent: number
  /** Rows that changed between read and write (they were rewritten under the current key). */
  changedMeanwhile: number
  /** Rows no key of the ring opens (sealed under a key already removed): left as they are. */
  unreadable: number
}

export async function rekeyStoredCredentials(env: ServiceEnv): Promise<RekeyResult> {
  const keyId = await currentKeyId(env.ENCRYPTION_KEYS)
  const result: RekeyResult = {
    keyId,
    reencrypted: 0,
    alreadyCurrent: 0,
    changedMeanwhile: 0,
    unreadable: 0,
  }
  let after = ''
  for (;;) {
    const rows = await database(env.DB)
      .select({ id: destinations.id, secrets: destinations.secrets })
      .from(destinations)
      .where(and(isNotNull(destinations.secrets), gt(destinations.id, after)))
      .orderBy(asc(destinations.id))
      .limit(PAGE)
      .all()
    const stale = rows.filter((row) => sealedKeyId(row.secrets as string) !== keyId)
    result.alreadyCurrent += rows.length - stale.length
    const statements: D1PreparedStatement[] = []
    for (const row of stale) {
      const sealed = row.secrets as string
      let plain: string
      try {
        plain = await openText(env.ENCRYPTION_KEYS, sealed)
      } catch {
        result.unreadable += 1
        log.warn({
          event: 'credential_unreadable',
          destinationId: row.id,
          keyId: sealedKeyId(sealed),
        })
        continue
      }
      statements.push(
        env.DB.prepare('UPDATE destinations SET secrets = ? WHERE id = ? AND secrets = ?').bind(
          await sealText(env.ENCRYPTION_KEYS, plain),
          row.id,
          sealed,
        ),
      )
    }
    if (statements.length > 0) {
      for (const written of await env.DB.batch(statements)) {
        if (written.meta.changes === 1) result.reencrypted += 1
        else result.changedMeanwhile += 1
      }
    }
    if (rows.length < PAGE) break
    after = (rows.at(-1) as { id: string }).id
  }
  log.info({ event: 'credentials_rekeyed', ...result })
  return result
}
