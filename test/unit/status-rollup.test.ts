import { describe, expect, it } from 'vitest'
import { rollUpStatus } from '../../src/delivery/status-rollup'
import type { DestinationStatus } from '../../src/schemas/delivery'

const t = (status: DestinationStatus, attempts = 0) => ({ status, attempts })

describe('rollUpStatus', () => {
  it('is queued until anything was attempted', () => {
    expect(rollUpStatus([t('queued'), t('held')])).toBe('queued')
  })

  it('is in progress once a destination was attempted or settled', () => {
    expect(rollUpStatus([t('retrying', 1), t('queued')])).toBe('in_progress')
    expect(rollUpStatus([t('delivering'), t('queued')])).toBe('in_progress')
    expect(rollUpStatus([t('delivered', 1), t('queued')])).toBe('in_progress')
  })

  it('is delivered when every destination not skipped was delivered', () => {
    expect(rollUpStatus([t('delivered', 1), t('delivered', 3)])).toBe('delivered')
    expect(rollUpStatus([t('delivered', 1), t('skipped')])).toBe('delivered')
  })

  it('is partially delivered when some delivered and some failed', () => {
    expect(rollUpStatus([t('delivered', 1), t('failed', 5)])).toBe('partially_delivered')
  })

  it('is failed when settled with nothing delivered, all skipped included', () => {
    expect(rollUpStatus([t('failed', 5), t('skipped')])).toBe('failed')
    expect(rollUpStatus([t('skipped')])).toBe('failed')
  })
})
