import { describe, expect, it } from 'vitest'
import { call } from '../support/api'

/** Every `src` and `href` attribute of an HTML page. */
function referencedUrls(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((match) => match[1] ?? '')
}

describe('API reference', () => {
  it('serves /docs as HTML that loads only assets of this origin under /docs/', async () => {
    const response = await call('/docs')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html; charset=UTF-8')
    expect(response.text).toContain('<div id="swagger-ui"></div>')
    expect(referencedUrls(response.text)).toEqual([
      '/docs/swagger-ui.css',
      '/docs/favicon-32x32.png',
      '/docs/favicon-16x16.png',
      '/docs/swagger-ui-bundle.js',
      '/docs/init.js',
    ])
    expect(response.text).not.toMatch(/https?:|\/\/[a-z]/i)
  })

  it('forbids scripts and connections to any other origin', async () => {
    const response = await call('/docs')
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    )
  })

  it('starts Swagger UI on the service’s own /openapi.json', async () => {
    const response = await call('/docs/init.js')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(response.text).toContain("url: '/openapi.json'")
    expect(response.text).toContain("dom_id: '#swagger-ui'")
  })

  it('serves the copied Swagger UI files from the static assets', async () => {
    const response = await call('/docs/swagger-ui.css')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expect(response.text).toContain('.swagger-ui')
    expect(response.headers.get('x-request-id')).toMatch(/^req_/)
  })

  it('answers 404 in the error shape for a reference asset that does not exist', async () => {
    const response = await call('/docs/no-such-asset.js')
    expect(response.status).toBe(404)
    expect(response.json).toEqual({
      error: {
        code: 'not_found',
        message:
          'No reference asset at /docs/no-such-asset.js; run `node scripts/copy-docs-assets.mjs` if the folder public/docs is missing',
        requestId: response.headers.get('x-request-id'),
      },
    })
  })

  it('publishes an OpenAPI 3.1 document that lists the admin routes and the reference page', async () => {
    const response = await call('/openapi.json')
    expect(response.status).toBe(200)
    expect(response.json.openapi).toBe('3.1.0')
    expect(Object.keys(response.json.paths['/v1/admin/organizations']).sort()).toEqual([
      'get',
      'post',
    ])
    expect(response.json.paths['/docs'].get.responses['200'].content).toHaveProperty('text/html')
  })
})
