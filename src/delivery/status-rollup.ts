/**
 * The overall status of a delivery from the statuses of its destinations:
 * - `delivered` when every destination that was not skipped got it (and at least one did);
 * - `partially_delivered` when all are settled, some delivered and some failed;
 * - `failed` when all are settled and none was delivered (all skipped counts as failed);
 * - `in_progress` once any destination has been attempted or settled;
 * - `queued` before that.
 */
import type { DeliveryStatus, DestinationStatus } from '../schemas/delivery'

const SETTLED: ReadonlySet<DestinationStatus> = new Set(['delivered', 'failed', 'skipped'])

export function isSettled(status: DestinationStatus): boolean {
  return SETTLED.has(status)
}

export function rollUpStatus(
  targets: ReadonlyArray<{ status: DestinationStatus; attempts: number }>,
): DeliveryStatus {
  const delivered = targets.filter((t) => t.status === 'delivered').length
  const failed = targets.filter((t) => t.status === 'failed').length
  if (targets.every((t) => isSettled(t.status))) {
    if (delivered === 0) return 'failed'
    return failed === 0 ? 'delivered' : 'partially_delivered'
  }
  const started = targets.some(
    (t) => t.attempts > 0 || isSettled(t.status) || t.status === 'delivering',
  )
  return started ? 'in_progress' : 'queued'
}
