/**
 * The service's API as the benchmark uses it to set up tenants: organizations and keys
 * (admin), settings, destinations, and a few reads to check what was stored.
 */
import { randomBytes } from 'node:crypto'

export interface Tenant {
  organizationId: string
  apiKey: string
}

export class ServiceClient {
  readonly baseUrl: string
  private readonly adminToken: string

  constructor(baseUrl: string, adminToken: string) {
    this.baseUrl = baseUrl
    this.adminToken = adminToken
  }

  async call(
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      // A runtime that stops answering fails the run instead of hanging it.
      signal: AbortSignal.timeout(60_000),
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, json: text ? JSON.parse(text) : null }
  }

  private async expect<T>(
    status: number,
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<T> {
    const response = await this.call(method, path, token, body)
    if (response.status !== status)
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.json)}`)
    return response.json as T
  }

  /** An organization with one key, tuned for load: rate limits at their maximum. */
  async createTenant(organizationId: string, maxInFlightPerDestination: number): Promise<Tenant> {
    await this.expect(201, 'POST', '/v1/admin/organizations', this.adminToken, {
      id: organizationId,
      name: `Benchmark ${organizationId}`,
    })
    const key = await this.expect<{ key: string }>(
      201,
      'POST',
      `/v1/admin/organizations/${organizationId}/api-keys`,
      this.adminToken,
      { name: 'benchmark' },
    )
    await this.expect(200, 'PUT', '/v1/settings', key.key, {
      limits: { ingestPerSecond: 100_000, ingestBurst: 1_000_000, maxInFlightPerDestination },
    })
    return { organizationId, apiKey: key.key }
  }

  /** A webhook destination with a known secret, so the receiver can verify signatures. */
  async createWebhook(
    tenant: Tenant,
    options: { label: string; url: string; isDefault?: boolean; delivery?: unknown },
  ): Promise<{ id: string; secret: string }> {
    const secret = `whsec_${randomBytes(24).toString('base64')}`
    const created = await this.expect<{ id: string }>(
      201,
      'POST',
      '/v1/destinations',
      tenant.apiKey,
      {
        label: options.label,
        type: 'webhook',
        isDefault: options.isDefault ?? false,
        config: { webhook: { url: options.url, method: 'POST', timeout: 30_000, secret } },
        ...(options.delivery ? { delivery: options.delivery } : {}),
      },
    )
    return { id: created.id, secret }
  }

  /** An R2 storage destination (the Worker's bucket, under the organization's prefix). */
  async createR2(tenant: Tenant, options: { label: string; isDefault?: boolean }) {
    return this.expect<{ id: string }>(201, 'POST', '/v1/destinations', tenant.apiKey, {
      label: options.label,
      type: 'storage',
      isDefault: options.isDefault ?? false,
      config: { storage: { provider: 'r2' } },
    })
  }

  async deleteDestination(tenant: Tenant, id: string): Promise<void> {
    await this.expect(200, 'DELETE', `/v1/destinations/${id}`, tenant.apiKey)
  }

  /** Deliveries the organization accepted so far: sequence numbers are gap-free from 1. */
  async acceptedCount(tenant: Tenant): Promise<number> {
    const page = await this.expect<{ deliveries: { sequence: number }[] }>(
      200,
      'GET',
      '/v1/deliveries?limit=1',
      tenant.apiKey,
    )
    return page.deliveries[0]?.sequence ?? 0
  }

  async metricsTotals(tenant: Tenant, startDate: string) {
    const body = await this.expect<{ totals: Record<string, number> }>(
      200,
      'GET',
      `/v1/metrics?startDate=${startDate}&endDate=${new Date(Date.now() + 120_000).toISOString()}&granularity=day`,
      tenant.apiKey,
    )
    return body.totals
  }
}
