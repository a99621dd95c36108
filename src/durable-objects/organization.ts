/**
 * One Durable Object per organization: the place where that tenant's state that needs a
 * single writer lives (API keys, settings, sequence numbers, idempotency keys, delivery
 * records and per-destination outboxes). Methods are typed RPC; state is its own SQLite.
 */
import { DurableObject } from 'cloudflare:workers'
import type { ServiceEnv } from '../env'
import type { Settings } from '../schemas/settings'
import { type ApiKeyRecord, ApiKeyStore, type KeyCheck } from './organization/api-keys'
import { MetaStore, type OrganizationIdentity } from './organization/meta'
import { migrate } from './organization/migrations'

export class OrganizationDurableObject extends DurableObject<ServiceEnv> {
  private readonly sql: SqlStorage
  private readonly meta: MetaStore
  private readonly apiKeys: ApiKeyStore
  private destinationCache: unknown = null

  constructor(ctx: DurableObjectState, env: ServiceEnv) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    ctx.blockConcurrencyWhile(async () => migrate(this.sql))
    this.meta = new MetaStore(this.sql)
    this.apiKeys = new ApiKeyStore(this.sql)
  }

  /** Records who this object is; called when the operator creates or changes the organization. */
  async setIdentity(identity: OrganizationIdentity): Promise<void> {
    this.meta.setIdentity(identity)
  }

  async identity(): Promise<OrganizationIdentity | null> {
    return this.meta.identity()
  }

  async issueApiKey(input: {
    id: string
    name: string
    keyHash: string
    prefix: string
    expiresAt: string | null
  }): Promise<ApiKeyRecord> {
    return this.apiKeys.insert(input, new Date().toISOString())
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.apiKeys.list()
  }

  async revokeApiKey(keyId: string): Promise<ApiKeyRecord | null> {
    return this.apiKeys.revoke(keyId, new Date().toISOString())
  }

  /** Checks a presented key by id and hash; a disabled organization refuses every key. */
  async authenticate(keyId: string, keyHash: string): Promise<KeyCheck> {
    const identity = this.meta.identity()
    if (!identity) return { ok: false, reason: 'unknown' }
    const check = this.apiKeys.check(keyId, keyHash, new Date())
    if (check.ok && identity.status === 'disabled')
      return { ok: false, reason: 'organization_disabled' }
    return check
  }

  async getSettings(): Promise<Settings> {
    return this.meta.settings()
  }

  async replaceSettings(settings: Settings): Promise<Settings> {
    this.meta.setSettings(settings)
    return settings
  }

  /**
   * Called by the Worker after one of this organization's destinations changed in D1, so
   * the object stops using what it cached. A deleted destination's pending work ends `skipped`.
   */
  async destinationsChanged(change: { destinationId: string; deleted: boolean }): Promise<void> {
    this.destinationCache = null
    void change
  }

  /** Deletes everything this object holds, alarm included; it answers afterwards as a new, unknown organization. */
  async purge(): Promise<void> {
    await this.ctx.storage.deleteAlarm()
    await this.ctx.storage.deleteAll()
    migrate(this.sql)
  }
}
