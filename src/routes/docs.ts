/**
 * The interactive API reference. `/docs` is a small HTML page that loads Swagger UI from
 * the Worker's own static assets (`public/docs/`, copied from `swagger-ui-dist` by
 * `scripts/copy-docs-assets.mjs`) and renders `/openapi.json`: nothing comes from a CDN,
 * so the page works offline. Because wrangler.toml sets `run_worker_first`, asset
 * requests reach this router first and are handed to the `ASSETS` binding here.
 */
import { createRoute, z } from '@hono/zod-openapi'
import { ApiError } from '../lib/errors'
import { createRouter } from '../lib/router'

const router = createRouter()

/** Where the copied Swagger UI files are served from. */
export const DOCS_ASSET_PREFIX = '/docs/'

// Everything the page loads comes from this origin; the start-up script is a file too,
// so no inline script is allowed. Swagger UI sets inline styles and data: images.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Audit event delivery service: API reference</title>
    <link rel="stylesheet" href="${DOCS_ASSET_PREFIX}swagger-ui.css" />
    <link rel="icon" type="image/png" sizes="32x32" href="${DOCS_ASSET_PREFIX}favicon-32x32.png" />
    <link rel="icon" type="image/png" sizes="16x16" href="${DOCS_ASSET_PREFIX}favicon-16x16.png" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_ASSET_PREFIX}swagger-ui-bundle.js"></script>
    <script src="${DOCS_ASSET_PREFIX}init.js"></script>
  </body>
</html>
`

// Renders the service's own document; "Try it out" calls this origin with the bearer
// token entered under "Authorize" (kept for the tab only, never stored).
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    persistAuthorization: false,
  })
})
`

router.openapi(
  createRoute({
    method: 'get',
    path: '/docs',
    tags: ['meta'],
    summary: 'Interactive API reference (Swagger UI, served from bundled assets)',
    security: [],
    responses: {
      200: {
        description: 'The reference page',
        content: { 'text/html': { schema: z.string() } },
      },
    },
  }),
  (c) => {
    c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
    return c.html(PAGE, 200)
  },
)

router.get(`${DOCS_ASSET_PREFIX}init.js`, (c) => {
  c.header('Content-Type', 'text/javascript; charset=utf-8')
  return c.body(INIT_SCRIPT, 200)
})

router.get(`${DOCS_ASSET_PREFIX}*`, async (c) => {
  const response = await c.env.ASSETS.fetch(c.req.raw)
  if (response.status === 404) {
    await response.body?.cancel()
    throw new ApiError(
      'not_found',
      `No reference asset at ${c.req.path}; run \`node scripts/copy-docs-assets.mjs\` if the folder public/docs is missing`,
    )
  }
  return response
})

export const docsRoutes = router
