/**
 * The organization's destinations as the object routes deliveries: a cache of D1 rows,
 * refreshed when the Worker reports a change and at most `MAX_AGE_MS` old otherwise.
 * Resolves what a delivery names (ids, labels, `default`) into destinations.
 */
import type { DestinationSummary } from '../../services/destinations/repository'

export type { DestinationSummary }

export interface ResolutionError {
  code: 'destination_not_found' | 'destination_disabled'
  message: string
  details: { issues: { path: string; message: string }[] }
}

const MAX_AGE_MS = 30_000

export class DestinationDirectory {
  private byId = new Map<string, DestinationSummary>()
  private byLabel = new Map<string, DestinationSummary>()
  private loadedAt = 0

  constructor(private readonly load: () => Promise<DestinationSummary[]>) {}

  async refresh(now: number): Promise<void> {
    if (now - this.loadedAt < MAX_AGE_MS) return
    const rows = await this.load()
    this.byId = new Map(rows.map((row) => [row.id, row]))
    this.byLabel = new Map(rows.map((row) => [row.label, row]))
    this.loadedAt = now
  }

  invalidate(): void {
    this.loadedAt = 0
  }

  get(id: string): DestinationSummary | undefined {
    return this.byId.get(id)
  }

  all(): DestinationSummary[] {
    return [...this.byId.values()]
  }

  /**
   * Resolves a delivery's `destinations` field. Unknown names (including another
   * tenant's ids, which this organization cannot see) are `destination_not_found`.
   */
  resolve(
    refs: string | readonly string[],
  ): { ok: true; destinations: DestinationSummary[] } | { ok: false; error: ResolutionError } {
    const list = typeof refs === 'string' ? [refs] : refs
    const chosen = new Map<string, DestinationSummary>()
    for (const [index, ref] of list.entries()) {
      const path = typeof refs === 'string' ? 'destinations' : `destinations[${index}]`
      if (ref === 'default') {
        const defaults = this.all().filter((d) => d.isDefault && !d.disabled)
        if (defaults.length === 0)
          return {
            ok: false,
            error: failure(
              'destination_not_found',
              path,
              'the organization has no enabled default destinations',
            ),
          }
        for (const destination of defaults) chosen.set(destination.id, destination)
        continue
      }
      const destination = this.byId.get(ref) ?? this.byLabel.get(ref)
      if (!destination)
        return {
          ok: false,
          error: failure('destination_not_found', path, `no destination with id or label "${ref}"`),
        }
      if (destination.disabled) {
        return {
          ok: false,
          error: failure(
            'destination_disabled',
            path,
            `destination "${destination.label}" is disabled`,
          ),
        }
      }
      chosen.set(destination.id, destination)
    }
    return { ok: true, destinations: [...chosen.values()] }
  }
}

function failure(code: ResolutionError['code'], path: string, message: string): ResolutionError {
  return { code, message: `${path}: ${message}`, details: { issues: [{ path, message }] } }
}
