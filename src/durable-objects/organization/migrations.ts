/**
 * Schema of the organization object's own SQLite database, applied in order on wake.
 * Append new steps; never edit one that has shipped.
 */
export const ORGANIZATION_SCHEMA_STEPS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE IF NOT EXISTS api_keys (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     key_hash TEXT NOT NULL,
     prefix TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at TEXT,
     revoked_at TEXT,
     last_used_at TEXT
   );`,
]

/** Applies the steps not yet applied; runs inside the constructor's blockConcurrencyWhile. */
export function migrate(sql: SqlStorage): void {
  sql.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)')
  const row = sql.exec<{ version: number }>('SELECT version FROM schema_version').toArray()[0]
  const current = row?.version ?? 0
  for (let step = current; step < ORGANIZATION_SCHEMA_STEPS.length; step++) {
    sql.exec(ORGANIZATION_SCHEMA_STEPS[step] as string)
  }
  if (!row)
    sql.exec('INSERT INTO schema_version (version) VALUES (?)', ORGANIZATION_SCHEMA_STEPS.length)
  else sql.exec('UPDATE schema_version SET version = ?', ORGANIZATION_SCHEMA_STEPS.length)
}
