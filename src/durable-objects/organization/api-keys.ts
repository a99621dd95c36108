/**
 * API keys of one organization, kept in its object so that a check and a revocation
 * meet in one place: a revoked key fails on the very next request.
 *
 * A key reads `dsk_<organizationId>_<keyIdSuffix>_<secret>`: it carries its organization
 * (so the Worker knows which object to ask) and its id; only its SHA-256 is stored.
 */
import { constantTimeEqual } from '../../lib/crypto'

export interface ApiKeyRecord {
  id: string
  name: string
  prefix: string
  createdAt: string
  expiresAt: string | null
  revokedAt: string | null
  lastUsedAt: string | null
}

/** What a presented key is checked by: its id and the SHA-256 of the whole key. */
export interface KeyCredentials {
  keyId: string
  keyHash: string
}

export type KeyCheck =
  | { ok: true; keyId: string }
  | { ok: false; reason: 'unknown' | 'revoked' | 'expired' | 'organization_disabled' }

interface Row extends Record<string, SqlStorageValue> {
  id: string
  name: string
  key_hash: string
  prefix: string
  created_at: string
  expires_at: string | null
  revoked_at: string | null
  last_used_at: string | null
}

/** lastUsedAt is written at most this often per key, to keep reads from becoming writes. */
const LAST_USED_RESOLUTION_MS = 10_000

export class ApiKeyStore {
  constructor(private readonly sql: SqlStorage) {}

  insert(
    record: { id: string; name: string; keyHash: string; prefix: string; expiresAt: string | null },
    now: string,
  ): ApiKeyRecord {
    this.sql.exec(
      'INSERT INTO api_keys (id, name, key_hash, prefix, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      record.id,
      record.name,
      record.keyHash,
      record.prefix,
      now,
      record.expiresAt,
    )
    return {
      id: record.id,
      name: record.name,
      prefix: record.prefix,
      createdAt: now,
      expiresAt: record.expiresAt,
      revokedAt: null,
      lastUsedAt: null,
    }
  }

  list(): ApiKeyRecord[] {
    return this.sql
      .exec<Row>('SELECT * FROM api_keys ORDER BY created_at, id')
      .toArray()
      .map(toRecord)
  }

  /** Marks a key revoked; false when it does not exist or was already revoked. */
  revoke(keyId: string, now: string): ApiKeyRecord | null {
    const row = this.sql.exec<Row>('SELECT * FROM api_keys WHERE id = ?', keyId).toArray()[0]
    if (!row) return null
    if (!row.revoked_at)
      this.sql.exec('UPDATE api_keys SET revoked_at = ? WHERE id = ?', now, keyId)
    return toRecord({ ...row, revoked_at: row.revoked_at ?? now })
  }

  check(keyId: string, keyHash: string, now: Date): KeyCheck {
    const row = this.sql.exec<Row>('SELECT * FROM api_keys WHERE id = ?', keyId).toArray()[0]
    if (!row || !constantTimeEqual(row.key_hash, keyHash)) return { ok: false, reason: 'unknown' }
    if (row.revoked_at) return { ok: false, reason: 'revoked' }
    if (row.expires_at && Date.parse(row.expires_at) <= now.getTime())
      return { ok: false, reason: 'expired' }
    if (
      !row.last_used_at ||
      now.getTime() - Date.parse(row.last_used_at) >= LAST_USED_RESOLUTION_MS
    ) {
      this.sql.exec('UPDATE api_keys SET last_used_at = ? WHERE id = ?', now.toISOString(), keyId)
    }
    return { ok: true, keyId }
  }
}

function toRecord(row: Row): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  }
}
