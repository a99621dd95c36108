/**
 * Resume points of cron jobs, in D1's `cron_cursors`: where a job that walks something
 * in pages stopped, or when it last completed a round. One row per name.
 */
import { eq } from 'drizzle-orm'
import { database } from '../db/client'
import { cronCursors } from '../db/schema'

export async function readCursor(db: D1Database, name: string): Promise<string | null> {
  const row = await database(db)
    .select({ cursor: cronCursors.cursor })
    .from(cronCursors)
    .where(eq(cronCursors.name, name))
    .get()
  return row?.cursor ?? null
}

export async function writeCursor(db: D1Database, name: string, cursor: string): Promise<void> {
  const updatedAt = new Date().toISOString()
  await database(db)
    .insert(cronCursors)
    .values({ name, cursor, updatedAt })
    .onConflictDoUpdate({ target: cronCursors.name, set: { cursor, updatedAt } })
}

export async function clearCursor(db: D1Database, name: string): Promise<void> {
  await database(db).delete(cronCursors).where(eq(cronCursors.name, name))
}
