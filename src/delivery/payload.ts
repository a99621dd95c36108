/**
 * A delivery's payload as the service keeps it: the original texts of `data` and
 * `metadata`, sealed together at rest. Sealed once at the edge; opened only by the
 * consumer that delivers it.
 */
import { openText, sealText } from '../lib/at-rest'

export interface PayloadTexts {
  data: string
  metadata: string | null
}

export function sealPayload(keys: string | undefined, payload: PayloadTexts): Promise<string> {
  return sealText(keys, JSON.stringify([payload.data, payload.metadata]))
}

export async function openPayload(keys: string | undefined, sealed: string): Promise<PayloadTexts> {
  const [data, metadata] = JSON.parse(await openText(keys, sealed)) as [string, string | null]
  return { data, metadata }
}
