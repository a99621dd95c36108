/**
 * `createDeliveryService`: one typed method per operation of the delivery service's API.
 * Tenant calls use an API key: `apiKey` for one organization, or `apiKeys` (organization
 * id to key) so that one client serves several tenants, picking the key by the call's
 * `organizationId`. Operator calls use `adminToken`. `config` (the seed's `retry` and
 * `security`, or any other settings section) is merged into each organization's settings
 * once, before the first call made for that organization.
 *
 * @example
 * const service = createDeliveryService({ baseUrl: 'http://127.0.0.1:8787', apiKey })
 * const receipt = await service.deliver({
 *   destinations: 'default',
 *   payload: { type: 'phi-access-audit', data: { patientId: 'P-1' } },
 * })
 * const delivery = await service.waitForDelivery(receipt.deliveryId)
 */
import { clientError, DeliveryServiceError } from './errors.ts'
import { createTransport, type FetchLike, type RequestSpec } from './http.ts'
import type {
  AlertRule,
  AlertRulePage,
  ApiKey,
  Attempt,
  AuditLogQuery,
  AuditPage,
  BatchResult,
  CreateAlertRuleRequest,
  CreateDestinationRequest,
  CreateOrganizationRequest,
  DeliverRequest,
  Delivery,
  DeliveryMetrics,
  DeliveryMetricsQuery,
  DeliveryPage,
  DeliveryReceipt,
  Destination,
  DestinationHealth,
  DestinationPage,
  DestinationTestResult,
  IssueApiKeyRequest,
  IssuedApiKey,
  ListAlertRulesQuery,
  ListDeliveriesQuery,
  ListDestinationsQuery,
  ListOrganizationsQuery,
  Organization,
  OrganizationPage,
  OrganizationSettings,
  RequeueResult,
  RevokedDownload,
  Scope,
  Settings,
  SettingsInput,
  UpdateAlertRuleRequest,
  UpdateDestinationRequest,
  UpdateOrganizationRequest,
} from './types.ts'

/** Settings sections to merge into every organization the client acts for. */
export type DeliveryServiceConfig = DeepPartial<SettingsInput>

type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T

export interface DeliveryServiceOptions {
  /** The service's origin, such as `http://127.0.0.1:8787`. */
  baseUrl: string
  /** The key of the one organization this client acts for. */
  apiKey?: string | undefined
  /** Keys by organization id, for a client that serves several tenants. */
  apiKeys?: Record<string, string> | undefined
  /** The operator's token, needed only for the organization and key methods. */
  adminToken?: string | undefined
  config?: DeliveryServiceConfig | undefined
  /** A fetch to use instead of the global one (a service binding, a test harness). */
  fetch?: FetchLike | undefined
  /** Milliseconds before one request is abandoned. Default 30000. */
  timeoutMs?: number | undefined
}

/** Options of calls that act on one destination or delivery of an organization. */
export type ScopeOptions = Scope

export interface WaitOptions extends Scope {
  /** Give up after this long (code `timeout`). Default 30000 ms. */
  timeoutMs?: number
  /** Poll interval. Default 250 ms. */
  intervalMs?: number
  /** When the wait is over; default: the delivery reached a final status. */
  until?: (delivery: Delivery) => boolean
}

const FINAL_STATUSES: ReadonlySet<Delivery['status']> = new Set([
  'delivered',
  'partially_delivered',
  'failed',
])

/** Whether nothing more will happen to a delivery without a retry or recovery. */
export function isSettled(delivery: Delivery): boolean {
  return FINAL_STATUSES.has(delivery.status)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Merges `patch` into `base`: objects merge key by key, anything else replaces. */
function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch === undefined ? base : patch
  const merged: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(patch)) merged[key] = deepMerge(base[key], value)
  return merged
}

const segment = (value: string) => encodeURIComponent(value)

/** `true`/`false` for the API's boolean query flags. */
const flag = (value: boolean | undefined) => (value === undefined ? undefined : String(value))

export function createDeliveryService(options: DeliveryServiceOptions) {
  const transport = createTransport(options)
  const apiKeys = new Map(Object.entries(options.apiKeys ?? {}))
  const configured = new Map<string, Promise<void>>()

  /** The key for a call: the organization's own, else the single key, else an error. */
  function keyFor(organizationId: string | undefined): string {
    if (organizationId !== undefined) {
      const key = apiKeys.get(organizationId) ?? options.apiKey
      if (key) return key
      throw clientError(
        'missing_api_key',
        `No API key for organization "${organizationId}": add it to apiKeys`,
      )
    }
    if (options.apiKey) return options.apiKey
    if (apiKeys.size === 1) return apiKeys.values().next().value as string
    throw clientError(
      apiKeys.size === 0 ? 'missing_api_key' : 'missing_organization',
      apiKeys.size === 0
        ? 'This client has no API key: pass apiKey or apiKeys'
        : 'organizationId is required: this client holds keys for several organizations',
    )
  }

  /** Applies `config` to the key's organization once; a failed attempt is tried again next call. */
  function ensureConfigured(key: string): Promise<void> {
    if (!options.config) return Promise.resolve()
    let pending = configured.get(key)
    if (!pending) {
      pending = (async () => {
        const current = await transport.send<OrganizationSettings>({
          method: 'GET',
          path: '/v1/settings',
          token: key,
        })
        await transport.send<OrganizationSettings>({
          method: 'PUT',
          path: '/v1/settings',
          token: key,
          body: deepMerge(current.body.settings, options.config),
        })
      })()
      configured.set(key, pending)
      pending.catch(() => configured.delete(key))
    }
    return pending
  }

  /** A tenant call: picks the key, applies the config first, returns the body. */
  async function tenant<T>(
    organizationId: string | undefined,
    spec: Omit<RequestSpec, 'token'>,
  ): Promise<T> {
    const key = keyFor(organizationId)
    await ensureConfigured(key)
    return (await transport.send<T>({ ...spec, token: key })).body
  }

  async function admin<T>(spec: Omit<RequestSpec, 'token'>): Promise<T> {
    if (!options.adminToken)
      throw clientError('missing_admin_token', 'This call needs the adminToken option')
    return (await transport.send<T>({ ...spec, token: options.adminToken })).body
  }

  /** The optional `organizationId` query most tenant routes accept. */
  const orgQuery = (scope: Scope | undefined) => ({
    organizationId: scope?.organizationId,
  })

  const service = {
    /** Adds or replaces the key used for an organization. */
    setApiKey(organizationId: string, apiKey: string): void {
      apiKeys.set(organizationId, apiKey)
    },

    // Destinations

    createDestination(input: CreateDestinationRequest): Promise<Destination> {
      return tenant(input.organizationId, { method: 'POST', path: '/v1/destinations', body: input })
    },

    updateDestination(
      destinationId: string,
      patch: UpdateDestinationRequest,
      scope?: ScopeOptions,
    ): Promise<Destination> {
      const organizationId = scope?.organizationId ?? patch.organizationId
      return tenant(organizationId, {
        method: 'PATCH',
        path: `/v1/destinations/${segment(destinationId)}`,
        query: { organizationId },
        body: patch,
      })
    },

    deleteDestination(
      destinationId: string,
      scope?: ScopeOptions,
    ): Promise<{ id: string; deleted: true }> {
      return tenant(scope?.organizationId, {
        method: 'DELETE',
        path: `/v1/destinations/${segment(destinationId)}`,
        query: orgQuery(scope),
      })
    },

    getDestination(destinationId: string, scope?: ScopeOptions): Promise<Destination> {
      return tenant(scope?.organizationId, {
        method: 'GET',
        path: `/v1/destinations/${segment(destinationId)}`,
        query: orgQuery(scope),
      })
    },

    listDestinations(query: ListDestinationsQuery = {}): Promise<DestinationPage> {
      return tenant(query.organizationId, {
        method: 'GET',
        path: '/v1/destinations',
        query: { ...query, disabled: flag(query.disabled), isDefault: flag(query.isDefault) },
      })
    },

    /** Finds a destination by its exact label; null when there is none. */
    async findDestinationByLabel(label: string, scope?: ScopeOptions): Promise<Destination | null> {
      const page = await service.listDestinations({ ...scope, label, limit: 1 })
      return page.destinations[0] ?? null
    },

    /**
     * Probes the destination with its configuration (a signed test webhook, a probe object
     * written and deleted, an SMTP login…); answers whatever happened, `ok` tells.
     */
    testDestination(destinationId: string, scope?: ScopeOptions): Promise<DestinationTestResult> {
      return tenant(scope?.organizationId, {
        method: 'POST',
        path: `/v1/destinations/${segment(destinationId)}/test`,
        query: orgQuery(scope),
      })
    },

    /** A new webhook secret, shown in full only in this answer; the old one signs for a grace period. */
    rotateDestinationSecret(destinationId: string, scope?: ScopeOptions): Promise<Destination> {
      return tenant(scope?.organizationId, {
        method: 'POST',
        path: `/v1/destinations/${segment(destinationId)}/rotate-secret`,
        query: orgQuery(scope),
      })
    },

    /** Marks a destination as one of those that deliveries to `default` reach. */
    setDefaultDestination(organizationId: string, destinationId: string): Promise<Destination> {
      return tenant(organizationId, {
        method: 'PUT',
        path: `/v1/destinations/${segment(destinationId)}/default`,
        query: { organizationId },
      })
    },

    unsetDefaultDestination(organizationId: string, destinationId: string): Promise<Destination> {
      return tenant(organizationId, {
        method: 'DELETE',
        path: `/v1/destinations/${segment(destinationId)}/default`,
        query: { organizationId },
      })
    },

    getDestinationHealth(destinationId: string, scope?: ScopeOptions): Promise<DestinationHealth> {
      return tenant(scope?.organizationId, {
        method: 'GET',
        path: `/v1/destinations/${segment(destinationId)}/health`,
      })
    },

    /** Queues again every delivery to the destination that failed since `since`. */
    recoverDestination(
      destinationId: string,
      input: { since: string } & Scope,
    ): Promise<RequeueResult> {
      return tenant(input.organizationId, {
        method: 'POST',
        path: `/v1/destinations/${segment(destinationId)}/recover`,
        body: { since: input.since },
      })
    },

    /** Sends every delivery accepted since `since` to the destination, delivered before or not. */
    replayToDestination(
      destinationId: string,
      input: { since: string } & Scope,
    ): Promise<RequeueResult> {
      return tenant(input.organizationId, {
        method: 'POST',
        path: `/v1/destinations/${segment(destinationId)}/replay`,
        body: { since: input.since },
      })
    },

    // Deliveries

    /**
     * Accepts a delivery. A repeat with the same idempotency key and body answers the
     * original receipt with `replayed: true`.
     */
    async deliver(input: DeliverRequest): Promise<DeliveryReceipt> {
      const key = keyFor(input.organizationId)
      await ensureConfigured(key)
      const answer = await transport.send<Omit<DeliveryReceipt, 'replayed'>>({
        method: 'POST',
        path: '/v1/deliveries',
        token: key,
        body: input,
      })
      return { ...answer.body, replayed: answer.headers.get('idempotent-replayed') === 'true' }
    },

    /**
     * Accepts up to 1,000 deliveries of one organization in one request; each item is
     * accepted or rejected on its own (see `results`).
     */
    async deliverBatch(deliveries: DeliverRequest[], scope?: ScopeOptions): Promise<BatchResult> {
      const organizations = new Set(
        deliveries.map((item) => item.organizationId).filter((id) => id !== undefined),
      )
      if (organizations.size > 1)
        throw clientError(
          'mixed_organizations',
          `A batch belongs to one organization; this one names ${[...organizations].join(', ')}`,
        )
      const organizationId = scope?.organizationId ?? [...organizations][0]
      return tenant(organizationId, {
        method: 'POST',
        path: '/v1/deliveries/batch',
        body: { deliveries },
      })
    },

    getDeliveryStatus(deliveryId: string, scope?: ScopeOptions): Promise<Delivery> {
      return tenant(scope?.organizationId, {
        method: 'GET',
        path: `/v1/deliveries/${segment(deliveryId)}`,
      })
    },

    listDeliveries(query: ListDeliveriesQuery = {}): Promise<DeliveryPage> {
      return tenant(query.organizationId, { method: 'GET', path: '/v1/deliveries', query })
    },

    async getDeliveryAttempts(deliveryId: string, scope?: ScopeOptions): Promise<Attempt[]> {
      const body = await tenant<{ attempts: Attempt[] }>(scope?.organizationId, {
        method: 'GET',
        path: `/v1/deliveries/${segment(deliveryId)}/attempts`,
      })
      return body.attempts
    },

    /** Queues the delivery's failed destinations again (409 `nothing_to_retry` when none failed). */
    retryDelivery(deliveryId: string, scope?: ScopeOptions): Promise<Delivery> {
      return tenant(scope?.organizationId, {
        method: 'POST',
        path: `/v1/deliveries/${segment(deliveryId)}/retry`,
      })
    },

    /** Polls a delivery until `until` holds (by default: it is settled). */
    async waitForDelivery(deliveryId: string, wait: WaitOptions = {}): Promise<Delivery> {
      const until = wait.until ?? isSettled
      const deadline = Date.now() + (wait.timeoutMs ?? 30_000)
      for (;;) {
        const delivery = await service.getDeliveryStatus(deliveryId, wait)
        if (until(delivery)) return delivery
        if (Date.now() >= deadline)
          throw clientError(
            'timeout',
            `Delivery ${deliveryId} is still ${delivery.status} after ${wait.timeoutMs ?? 30_000} ms`,
            { details: { delivery } },
          )
        await new Promise((resolve) => setTimeout(resolve, wait.intervalMs ?? 250))
      }
    },

    /**
     * Revokes a download link (its URL or token) of the key's organization; the stored
     * envelope is deleted and the link answers 410 from then on.
     */
    revokeDownload(link: string, scope?: ScopeOptions): Promise<RevokedDownload> {
      const token = link.slice(link.lastIndexOf('/') + 1)
      return tenant(scope?.organizationId, {
        method: 'DELETE',
        path: `/v1/downloads/${segment(token)}`,
      })
    },

    // Metrics and alert rules

    /** Totals, success rate and latency over a time range, by type, destination and time slot. */
    getDeliveryMetrics(query: DeliveryMetricsQuery = {}): Promise<DeliveryMetrics> {
      return tenant(query.organizationId, { method: 'GET', path: '/v1/metrics', query })
    },

    /** The organization's counters in the Prometheus text format. */
    getPrometheusMetrics(scope?: ScopeOptions): Promise<string> {
      return tenant(scope?.organizationId, {
        method: 'GET',
        path: '/v1/metrics/prometheus',
        query: orgQuery(scope),
        as: 'text',
      })
    },

    createAlertRule(input: CreateAlertRuleRequest): Promise<AlertRule> {
      return tenant(input.organizationId, { method: 'POST', path: '/v1/alert-rules', body: input })
    },

    listAlertRules(query: ListAlertRulesQuery = {}): Promise<AlertRulePage> {
      return tenant(query.organizationId, { method: 'GET', path: '/v1/alert-rules', query })
    },

    getAlertRule(ruleId: string, scope?: ScopeOptions): Promise<AlertRule> {
      return tenant(scope?.organizationId, {
        method: 'GET',
        path: `/v1/alert-rules/${segment(ruleId)}`,
        query: orgQuery(scope),
      })
    },

    updateAlertRule(
      ruleId: string,
      patch: UpdateAlertRuleRequest,
      scope?: ScopeOptions,
    ): Promise<AlertRule> {
      const organizationId = scope?.organizationId ?? patch.organizationId
      return tenant(organizationId, {
        method: 'PATCH',
        path: `/v1/alert-rules/${segment(ruleId)}`,
        query: { organizationId },
        body: patch,
      })
    },

    deleteAlertRule(ruleId: string, scope?: ScopeOptions): Promise<{ id: string; deleted: true }> {
      return tenant(scope?.organizationId, {
        method: 'DELETE',
        path: `/v1/alert-rules/${segment(ruleId)}`,
        query: orgQuery(scope),
      })
    },

    // Settings and the audit trail

    async getSettings(scope?: ScopeOptions): Promise<Settings> {
      const body = await tenant<OrganizationSettings>(scope?.organizationId, {
        method: 'GET',
        path: '/v1/settings',
        query: orgQuery(scope),
      })
      return body.settings
    },

    /** Replaces the settings; sections and fields left out take their defaults. */
    async updateSettings(settings: SettingsInput, scope?: ScopeOptions): Promise<Settings> {
      const body = await tenant<OrganizationSettings>(scope?.organizationId, {
        method: 'PUT',
        path: '/v1/settings',
        query: orgQuery(scope),
        body: settings,
      })
      return body.settings
    },

    getAuditLog(query: AuditLogQuery = {}): Promise<AuditPage> {
      return tenant(query.organizationId, { method: 'GET', path: '/v1/audit-log', query })
    },

    // Operator: organizations and keys

    createOrganization(input: CreateOrganizationRequest): Promise<Organization> {
      return admin({ method: 'POST', path: '/v1/admin/organizations', body: input })
    },

    listOrganizations(query: ListOrganizationsQuery = {}): Promise<OrganizationPage> {
      return admin({ method: 'GET', path: '/v1/admin/organizations', query })
    },

    getOrganization(organizationId: string): Promise<Organization> {
      return admin({ method: 'GET', path: `/v1/admin/organizations/${segment(organizationId)}` })
    },

    updateOrganization(
      organizationId: string,
      patch: UpdateOrganizationRequest,
    ): Promise<Organization> {
      return admin({
        method: 'PATCH',
        path: `/v1/admin/organizations/${segment(organizationId)}`,
        body: patch,
      })
    },

    /** Its keys stop working (403 `organization_disabled`); its data is kept. */
    disableOrganization(organizationId: string): Promise<Organization> {
      return service.updateOrganization(organizationId, { status: 'disabled' })
    },

    enableOrganization(organizationId: string): Promise<Organization> {
      return service.updateOrganization(organizationId, { status: 'active' })
    },

    /** Everything the organization has (secrets masked), to keep before deleting it. */
    exportOrganization(organizationId: string): Promise<Record<string, unknown>> {
      return admin({
        method: 'GET',
        path: `/v1/admin/organizations/${segment(organizationId)}/export`,
      })
    },

    /** Purges the organization and all its data; cannot be undone, hence `confirm: true`. */
    deleteOrganization(
      organizationId: string,
      confirmation: { confirm: true },
    ): Promise<{ id: string; deleted: true }> {
      return admin({
        method: 'DELETE',
        path: `/v1/admin/organizations/${segment(organizationId)}`,
        query: { confirm: confirmation.confirm },
      })
    },

    /** A new key; `key` is in this answer only. */
    issueApiKey(organizationId: string, input: IssueApiKeyRequest): Promise<IssuedApiKey> {
      return admin({
        method: 'POST',
        path: `/v1/admin/organizations/${segment(organizationId)}/api-keys`,
        body: input,
      })
    },

    async listApiKeys(organizationId: string): Promise<ApiKey[]> {
      const body = await admin<{ apiKeys: ApiKey[] }>({
        method: 'GET',
        path: `/v1/admin/organizations/${segment(organizationId)}/api-keys`,
      })
      return body.apiKeys
    },

    revokeApiKey(organizationId: string, keyId: string): Promise<ApiKey> {
      return admin({
        method: 'DELETE',
        path: `/v1/admin/organizations/${segment(organizationId)}/api-keys/${segment(keyId)}`,
      })
    },
  }
  return service
}

/** The client `createDeliveryService` returns. */
export type DeliveryService = ReturnType<typeof createDeliveryService>

export { DeliveryServiceError }
