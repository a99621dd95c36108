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
  `CREATE TABLE IF NOT EXISTS deliveries (
     id TEXT PRIMARY KEY,
     sequence INTEGER NOT NULL UNIQUE,
     payload_type TEXT NOT NULL,
     priority INTEGER NOT NULL,
     correlation_id TEXT,
     idempotency_key TEXT,
     tags TEXT NOT NULL,
     payload TEXT,
     payload_ref TEXT,
     payload_bytes INTEGER NOT NULL,
     request_id TEXT,
     accepted_at TEXT NOT NULL,
     accepted_ms INTEGER NOT NULL,
     updated_ms INTEGER NOT NULL
   );
   CREATE INDEX IF NOT EXISTS deliveries_accepted ON deliveries (accepted_ms);
   CREATE INDEX IF NOT EXISTS deliveries_correlation ON deliveries (correlation_id, sequence);
   CREATE TABLE IF NOT EXISTS targets (
     delivery_id TEXT NOT NULL,
     destination_id TEXT NOT NULL,
     sequence INTEGER NOT NULL,
     priority INTEGER NOT NULL,
     label TEXT NOT NULL,
     type TEXT NOT NULL,
     status TEXT NOT NULL,
     reason TEXT,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_ms INTEGER,
     released_ms INTEGER,
     lease TEXT,
     last_attempt_at TEXT,
     delivered_at TEXT,
     last_error TEXT,
     reference TEXT,
     updated_ms INTEGER NOT NULL,
     PRIMARY KEY (delivery_id, destination_id)
   );
   CREATE INDEX IF NOT EXISTS targets_ready ON targets (destination_id, status, priority DESC, sequence);
   CREATE INDEX IF NOT EXISTS targets_due ON targets (status, next_attempt_ms);
   CREATE INDEX IF NOT EXISTS targets_destination_sequence ON targets (destination_id, sequence);
   CREATE TABLE IF NOT EXISTS attempts (
     id TEXT PRIMARY KEY,
     delivery_id TEXT NOT NULL,
     destination_id TEXT NOT NULL,
     attempt INTEGER NOT NULL,
     started_at TEXT NOT NULL,
     duration_ms INTEGER NOT NULL,
     outcome TEXT NOT NULL,
     error TEXT,
     reference TEXT
   );
   CREATE INDEX IF NOT EXISTS attempts_delivery ON attempts (delivery_id, started_at);
   CREATE TABLE IF NOT EXISTS idempotency_keys (
     key TEXT PRIMARY KEY,
     request_hash TEXT NOT NULL,
     delivery_id TEXT NOT NULL,
     response TEXT NOT NULL,
     created_ms INTEGER NOT NULL
   );
   CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency_keys (created_ms);
   CREATE TABLE IF NOT EXISTS destination_health (
     destination_id TEXT PRIMARY KEY,
     consecutive_failures INTEGER NOT NULL DEFAULT 0,
     circuit TEXT NOT NULL DEFAULT 'closed',
     opened_ms INTEGER,
     first_failure_ms INTEGER,
     last_failure_ms INTEGER,
     last_success_ms INTEGER,
     recent TEXT NOT NULL DEFAULT '[]'
   );`,
  // The outbox asks after every report whether a destination has work due; this answers
  // it without reading the backlog.
  'CREATE INDEX IF NOT EXISTS targets_pending ON targets (destination_id, status, next_attempt_ms);',
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
