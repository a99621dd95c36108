/**
 * One cleanup pass over one storage destination: list its keys from where the last pass
 * stopped, delete those whose accept period ended before the retention cutoff, and say
 * where to resume. An object is deleted only if every destination of the organization
 * that could have written the same key (same store, matching template) is past its own
 * retention with cleanup on: a destination keeping objects longer, or not at all, wins.
 */
import { type KeyMatcher, keyMatcher } from './key-dates'
import type { ObjectStore } from './object-store'

const DAY_MS = 86_400_000
/** S3 lists and deletes at most 1,000 keys per call. */
const PAGE = 1000

/** A storage destination's retention, as cleanup reads it. */
export interface RetentionRule {
  path: string
  retention?: { days: number; autoCleanup: boolean } | undefined
}

export interface CleanupPass {
  examined: number
  deleted: number
  /** The last key examined when the pass stopped early; null when the round is complete. */
  resumeAfter: string | null
}

interface CompiledRule {
  matcher: KeyMatcher
  /** Objects whose period ended at or before this may go; null means keep everything. */
  cutoff: number | null
}

function compile(rule: RetentionRule, organizationId: string, now: number): CompiledRule {
  const { retention } = rule
  return {
    matcher: keyMatcher(rule.path, organizationId),
    cutoff: retention?.autoCleanup ? now - retention.days * DAY_MS : null,
  }
}

/** Whether no rule that covers the key wants it kept. */
function expired(rules: CompiledRule[], key: string, lastModifiedMs: number): boolean {
  for (const rule of rules) {
    const end = rule.matcher.periodEnd(key)
    if (end === undefined) continue
    if (rule.cutoff === null || (end ?? lastModifiedMs) > rule.cutoff) return false
  }
  return true
}

export async function cleanStore(
  store: ObjectStore,
  organizationId: string,
  owner: RetentionRule,
  others: RetentionRule[],
  now: number,
  options: { startAfter: string | null; listBudget: number },
): Promise<CleanupPass> {
  const own = compile(owner, organizationId, now)
  const rules = [own, ...others.map((rule) => compile(rule, organizationId, now))]
  const pass: CleanupPass = { examined: 0, deleted: 0, resumeAfter: null }
  let startAfter = options.startAfter
  while (pass.examined < options.listBudget) {
    const limit = Math.min(PAGE, options.listBudget - pass.examined)
    const page = await store.list(own.matcher.prefix, startAfter, limit)
    const doomed: string[] = []
    let younger = false
    for (const object of page.objects) {
      const end = own.matcher.periodEnd(object.key)
      // In a date-ordered listing, the first object inside the retention ends the round.
      if (
        own.matcher.dateOrdered &&
        typeof end === 'number' &&
        own.cutoff !== null &&
        end > own.cutoff
      ) {
        younger = true
        break
      }
      pass.examined += 1
      startAfter = object.key
      if (end !== undefined && expired(rules, object.key, object.lastModifiedMs))
        doomed.push(object.key)
    }
    await store.remove(doomed)
    pass.deleted += doomed.length
    if (younger || !page.truncated) return pass
  }
  pass.resumeAfter = startAfter
  return pass
}
