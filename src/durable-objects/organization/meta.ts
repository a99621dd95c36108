/** Small typed values of the organization object: its identity, status and settings. */
import { type Settings, SettingsSchema } from '../../schemas/settings'

export interface OrganizationIdentity {
  id: string
  name: string
  status: 'active' | 'disabled'
}

export class MetaStore {
  constructor(private readonly sql: SqlStorage) {}

  get(key: string): string | undefined {
    return this.sql
      .exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)
      .toArray()[0]?.value
  }

  set(key: string, value: string): void {
    this.sql.exec(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      key,
      value,
    )
  }

  identity(): OrganizationIdentity | null {
    const raw = this.get('identity')
    return raw ? (JSON.parse(raw) as OrganizationIdentity) : null
  }

  setIdentity(identity: OrganizationIdentity): void {
    this.set('identity', JSON.stringify(identity))
  }

  /** Settings with defaults filled in; stored values are re-parsed so new fields get defaults. */
  settings(): Settings {
    const raw = this.get('settings')
    return SettingsSchema.parse(raw ? JSON.parse(raw) : {})
  }

  setSettings(settings: Settings): void {
    this.set('settings', JSON.stringify(settings))
  }
}
