/**
 * Types of the Worker's environment and of the per-request context. `Env` itself is
 * generated from wrangler.toml by `npm run types`; optional secrets and bindings that a
 * deployment may leave out are added here.
 */
import type { ApiKeyCheck } from './middleware/auth'

export interface ServiceEnv extends Env {
  AWS_ACCESS_KEY_ID?: string
  AWS_SECRET_ACCESS_KEY?: string
  /** Workers Analytics Engine dataset; metrics are also written there when it is bound. */
  ANALYTICS?: AnalyticsEngineDataset
}

/** Who a request acts for, set by the authentication middleware. */
export type Principal =
  | { kind: 'admin' }
  | { kind: 'apiKey'; organizationId: string; keyId: string }

export interface RequestVariables {
  requestId: string
  principal: Principal
  /** The authenticated key's organization (absent on admin and public routes). */
  organizationId: string
  /** The tenant key presented and its object's verdict (see `ApiKeyCheck`). */
  apiKeyCheck: ApiKeyCheck
  /** The request body as received, for idempotency hashing and raw payload passthrough. */
  rawBody: string
}

export interface AppEnv {
  Bindings: ServiceEnv
  Variables: RequestVariables
}

/** Whether the development flag that allows loopback destinations is on. */
export function allowsLoopback(env: Pick<Env, 'ALLOW_LOOPBACK_DESTINATIONS'>): boolean {
  return env.ALLOW_LOOPBACK_DESTINATIONS === 'true'
}
