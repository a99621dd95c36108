/**
 * Copies the Swagger UI files that the /docs page loads from the installed
 * `swagger-ui-dist` package into `public/docs/`, where the Worker serves them as static
 * assets. The page therefore works offline and never reaches a CDN. `public/docs/` is
 * generated (and gitignored): `npm install` (prepare), `npm start`, `npm run dev` and
 * `npm run deploy` all run this first.
 *
 * Usage: node scripts/copy-docs-assets.mjs
 */
import { copyFileSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** The files the page needs, with the package's licence and notice beside them. */
export const DOCS_ASSET_FILES = [
  'swagger-ui-bundle.js',
  'swagger-ui.css',
  'favicon-32x32.png',
  'favicon-16x16.png',
  'LICENSE',
  'NOTICE',
]

/** Copies the assets into `<projectRoot>/public/docs` and returns the folder written. */
export function copyDocsAssets(projectRoot = root) {
  const require = createRequire(join(projectRoot, 'package.json'))
  const source = dirname(require.resolve('swagger-ui-dist/package.json'))
  const target = join(projectRoot, 'public', 'docs')
  mkdirSync(target, { recursive: true })
  for (const file of DOCS_ASSET_FILES) copyFileSync(join(source, file), join(target, file))
  return target
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = copyDocsAssets()
  console.log(`docs assets: ${DOCS_ASSET_FILES.length} files from swagger-ui-dist in ${target}`)
}
