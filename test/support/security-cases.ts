/**
 * The security cases every tenant route must pass, run from one place. For each route:
 * no key and a malformed key answer 401 with WWW-Authenticate; a revoked key answers 401;
 * an `organizationId` of another organization (in the body, or in the query when the route
 * takes no body) answers 403 `organization_mismatch`; and for routes addressing one
 * resource, another tenant's id answers 404 exactly like an id that does not exist, on
 * every verb, leaving the owner's resource as it was.
 *
 * Usage:
 *   describeSecurityCases('destinations', {
 *     routes: [{ method: 'GET', path: '/v1/destinations/{id}' }, …],
 *     createResource: async (tenant) => (await call(…create…)).json.id,
 *     readResource: async (tenant, id) => (await call(`/v1/destinations/${id}`, …)).json,
 *     missingId: 'dst_aaaaaaaaaaaaaaaaaaaa',
 *   })
 */
import { describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, call, createTenant } from './api'

export type Tenant = Awaited<ReturnType<typeof createTenant>>

export interface SecuredRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** The path; `{id}` stands for the addressed resource's id. */
  path: string
  /** A body the tenant could send; routes without one get `organizationId` in the query. */
  body?: (tenant: Tenant) => Record<string, unknown>
}

export interface SecurityCaseOptions {
  routes: SecuredRoute[]
  /** Creates, as `tenant`, the resource that `{id}` routes address; returns its id. */
  createResource?: (tenant: Tenant) => Promise<string>
  /** Reads the resource as its owner, to prove another tenant's calls left it unchanged. */
  readResource?: (tenant: Tenant, id: string) => Promise<unknown>
  /** An id of the right shape that no organization has. */
  missingId: string
}

const CHALLENGE = 'Bearer realm="audit-delivery"'
const NOBODY: Tenant = { organizationId: 'no-such-organization', apiKey: '', keyId: '' }
/** Has a key's shape, so it reaches the (unknown) organization's object before failing. */
const WELL_FORMED_UNKNOWN_KEY = `dsk_${NOBODY.organizationId}_${'a'.repeat(20)}_${'0'.repeat(64)}`

function send(route: SecuredRoute, tenant: Tenant, id: string, token: string | null, query = '') {
  const path = route.path.replace('{id}', id)
  const separator = path.includes('?') ? '&' : '?'
  return call(query ? `${path}${separator}${query}` : path, {
    method: route.method,
    token,
    body: route.body?.(tenant),
  })
}

/** The error without its request id and with the addressed id replaced, to compare two 404s. */
function comparable(error: Record<string, unknown>, id: string): string {
  const { requestId: _requestId, ...rest } = error
  return JSON.stringify(rest).replaceAll(id, '{id}')
}

/** Registers the security cases of a set of routes as one `describe` block. */
export function describeSecurityCases(name: string, options: SecurityCaseOptions): void {
  describe(`${name}: security cases`, () => {
    for (const route of options.routes) {
      const title = `${route.method} ${route.path}`
      const addressed = route.path.includes('{id}')

      it(`${title}: Should answer 401 with WWW-Authenticate without a key or with a malformed one`, async () => {
        for (const token of [null, 'not-a-key', WELL_FORMED_UNKNOWN_KEY]) {
          const response = await send(route, NOBODY, options.missingId, token)
          expect(response.status).toBe(401)
          expect(response.headers.get('www-authenticate')).toBe(CHALLENGE)
          expect(response.json).toEqual({
            error: {
              code: 'unauthorized',
              message:
                token === null
                  ? 'Authorization: Bearer <api key> is required'
                  : 'The API key is not valid',
              requestId: expect.any(String),
            },
          })
        }
      })

      it(`${title}: Should answer 401 with WWW-Authenticate to a revoked key`, async () => {
        const tenant = await createTenant('sec')
        const id = addressed && options.createResource ? await options.createResource(tenant) : ''
        const revoked = await call(
          `/v1/admin/organizations/${tenant.organizationId}/api-keys/${tenant.keyId}`,
          { method: 'DELETE', token: ADMIN_TOKEN },
        )
        expect(revoked.status).toBe(200)
        const response = await send(route, tenant, id || options.missingId, tenant.apiKey)
        expect(response.status).toBe(401)
        expect(response.headers.get('www-authenticate')).toBe(CHALLENGE)
        expect(response.json).toEqual({
          error: {
            code: 'unauthorized',
            message: 'The API key is revoked',
            requestId: expect.any(String),
          },
        })
      })

      const where = route.body ? 'body' : 'query'
      it(`${title}: Should answer 403 organization_mismatch to another organization's id in the ${where}`, async () => {
        const tenant = await createTenant('sec')
        const other = await createTenant('sec')
        const id = addressed && options.createResource ? await options.createResource(tenant) : ''
        const before = id && options.readResource ? await options.readResource(tenant, id) : null
        const response = route.body
          ? await call(route.path.replace('{id}', id), {
              method: route.method,
              token: tenant.apiKey,
              body: { ...route.body(tenant), organizationId: other.organizationId },
            })
          : await send(route, tenant, id, tenant.apiKey, `organizationId=${other.organizationId}`)
        expect(response.status).toBe(403)
        expect(response.json).toEqual({
          error: {
            code: 'organization_mismatch',
            message: `organizationId "${other.organizationId}" is not the organization of this API key`,
            details: {
              issues: [
                { path: 'organizationId', message: "does not match the API key's organization" },
              ],
            },
            requestId: expect.any(String),
          },
        })
        if (id && options.readResource) {
          expect(await options.readResource(tenant, id)).toEqual(before)
        }
      })

      if (addressed) {
        it(`${title}: Should answer 404 to another tenant's id exactly as to a missing id`, async () => {
          if (!options.createResource) throw new Error('createResource is needed for {id} routes')
          const owner = await createTenant('sec')
          const intruder = await createTenant('sec')
          const id = await options.createResource(owner)
          const before = options.readResource ? await options.readResource(owner, id) : null
          const foreign = await send(route, intruder, id, intruder.apiKey)
          const missing = await send(route, intruder, options.missingId, intruder.apiKey)
          expect(missing.status).toBe(404)
          expect(foreign.status).toBe(404)
          expect(comparable(foreign.json.error, id)).toBe(
            comparable(missing.json.error, options.missingId),
          )
          if (options.readResource) expect(await options.readResource(owner, id)).toEqual(before)
        })
      }
    }
  })
}
