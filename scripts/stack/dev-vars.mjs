/**
 * The local secrets file `.dev.vars` (read by `wrangler dev`). Missing values get fresh
 * random ones; values already there are never replaced, so a developer's own token and
 * the key that sealed the local database's secrets survive every restart.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/

/** Generators for the secrets `npm start` provides when `.dev.vars` lacks them. */
export const GENERATED_SECRETS = {
  ADMIN_TOKEN: () => `adm_${randomBytes(32).toString('base64url')}`,
  ENCRYPTION_KEYS: () => `k1:${randomBytes(32).toString('base64')}`,
}

/** Reads `KEY=value` lines (quotes around a value are dropped; comments are skipped). */
export function parseDevVars(text) {
  const values = new Map()
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*#/.test(line)) continue
    const match = LINE.exec(line)
    if (!match) continue
    const raw = (match[2] ?? '').trim()
    const quoted = /^(['"])(.*)\1$/.exec(raw)
    values.set(match[1], quoted ? quoted[2] : raw)
  }
  return values
}

/**
 * Adds a random value for each secret of `GENERATED_SECRETS` that is absent or empty in
 * the file at `path`, keeping every other line as it was. Returns the secrets in force
 * and the names that were written.
 */
export function ensureDevVars(path) {
  const original = existsSync(path) ? readFileSync(path, 'utf8') : ''
  const present = parseDevVars(original)
  const written = []
  let lines = original === '' ? [] : original.replace(/\r?\n$/, '').split(/\r?\n/)

  for (const [name, generate] of Object.entries(GENERATED_SECRETS)) {
    if (present.get(name)) continue
    const value = generate()
    // An empty `NAME=` line is filled in place; otherwise the value is appended.
    const emptyLine = lines.findIndex((line) => LINE.exec(line)?.[1] === name)
    if (emptyLine >= 0) lines[emptyLine] = `${name}=${value}`
    else lines = [...lines, `${name}=${value}`]
    present.set(name, value)
    written.push(name)
  }

  if (written.length > 0) writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600 })
  return { values: present, written }
}

/** Whether an `ENCRYPTION_KEYS` value has the shape the Worker accepts. */
export function isValidEncryptionKeys(value) {
  return value.split(',').every((entry) => {
    const [id, material, extra] = entry.trim().split(':')
    return Boolean(id) && extra === undefined && Buffer.from(material ?? '', 'base64').length === 32
  })
}
