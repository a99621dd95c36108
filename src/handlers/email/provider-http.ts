/**
 * What the HTTP e-mail providers share: the base URL (the provider's, or the destination's
 * `endpoint` override, which the destinations API allows only under the development flag
 * and which is checked again here) and one JSON request with the provider timeout.
 */
import { allowsLoopback, type ServiceEnv } from '../../env'
import { checkDestinationUrl } from '../../security/url-guard'
import { classifyResponse, fetchWithTimeout, responseExcerpt } from '../http-outcome'
import type { DeliveryReference, Outcome } from '../types'

/** How long a provider API call may take. */
export const PROVIDER_TIMEOUT_MS = 15_000

/** The base URL to call, or a permanent outcome when the override is refused. */
export function providerBase(
  override: string | undefined,
  fallback: string,
  env: ServiceEnv,
  provider: string,
): string | Outcome {
  if (override === undefined) return fallback
  const guard = checkDestinationUrl(override, { allowLoopback: allowsLoopback(env) })
  if (!guard.ok) {
    return {
      kind: 'permanent',
      code: 'destination_refused',
      message: `${provider} endpoint ${guard.reason}`,
    }
  }
  return override.replace(/\/+$/, '')
}

export function missingCredentials(provider: string, what: string): Outcome {
  return {
    kind: 'permanent',
    code: 'missing_credentials',
    message: `The ${provider} destination has no ${what}`,
  }
}

/**
 * Sends one request and classifies the answer. `reference` reads the provider's id from a
 * successful response; error bodies become the outcome's message excerpt.
 */
export async function callProvider(
  request: Request,
  provider: string,
  reference: (response: Response) => Promise<DeliveryReference>,
): Promise<Outcome> {
  const sent = await fetchWithTimeout(request, {}, PROVIDER_TIMEOUT_MS, provider)
  if ('outcome' in sent) return sent.outcome
  const { response } = sent
  if (response.ok) {
    let found: DeliveryReference
    try {
      found = await reference(response)
    } catch {
      found = {}
    }
    return classifyResponse(response, { peer: provider, reference: found })
  }
  return classifyResponse(response, { peer: provider, detail: await responseExcerpt(response) })
}
