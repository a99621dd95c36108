import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { AwsClient } from 'aws4fetch'
import { describe, expect, it } from 'vitest'
import worker from '../../src/index'
import { newId } from '../../src/lib/ids'
import { cleanDestination } from '../../src/scheduled/retention-cleanup'
import { call, createTenant } from '../support/api'
import { peers, s3Objects } from '../support/peers'

const DAY_MS = 86_400_000
const BUCKET = 'audit-archive'

type Tenant = Awaited<ReturnType<typeof createTenant>>

/** `YYYY/MM/DD` of the UTC day `days` before now. */
function dayPath(days: number): string {
  return new Date(Date.now() - days * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '/')
}

/** A key as a storage handler writes it: the filled template, then `<deliveryId>.json`. */
const deliveryKey = (folder: string) => `${folder}/${newId('delivery')}.json`

async function putS3(keys: string[]) {
  const p = peers()
  const client = new AwsClient({
    accessKeyId: p.s3.accessKeyId,
    secretAccessKey: p.s3.secretAccessKey,
    service: 's3',
    region: 'us-east-1',
  })
  for (const key of keys) {
    const response = await client.fetch(`${p.s3.url}/${BUCKET}/${key}`, {
      method: 'PUT',
      body: '{"seeded":true}',
    })
    expect(response.status, key).toBe(200)
  }
}

async function s3Keys(prefix: string): Promise<string[]> {
  return (await s3Objects(BUCKET, prefix)).map((object) => object.key).sort()
}

async function r2Keys(prefix: string): Promise<string[]> {
  return (await env.ARTIFACTS.list({ prefix })).objects.map((object) => object.key).sort()
}

async function createStorage(tenant: Tenant, storage: Record<string, unknown>) {
  const p = peers()
  const config =
    storage.provider === 's3'
      ? {
          bucket: BUCKET,
          endpoint: p.s3.url,
          accessKeyId: p.s3.accessKeyId,
          secretAccessKey: p.s3.secretAccessKey,
        }
      : {}
  const created = await call('/v1/destinations', {
    token: tenant.apiKey,
    body: {
      label: `Store ${crypto.randomUUID()}`,
      type: 'storage',
      config: { storage: { config, ...storage } },
    },
  })
  expect(created.status, created.text).toBe(201)
  return created.json.id as string
}

async function cursorOf(destinationId: string) {
  const row = await env.DB.prepare('SELECT cursor FROM cron_cursors WHERE name = ?')
    .bind(`retention-cleanup:${destinationId}`)
    .first<{ cursor: string }>()
  return row ? JSON.parse(row.cursor) : null
}

describe('retention at destinations: S3', () => {
  it('Should delete, from the cron trigger, the objects older than the retention and never a younger one', async () => {
    const tenant = await createTenant('retention')
    const org = tenant.organizationId
    await createStorage(tenant, {
      provider: 's3',
      path: '{organizationId}/{year}/{month}/{day}',
      retention: { days: 30, autoCleanup: true },
    })
    const old = [
      deliveryKey(`${org}/2020/01/15`),
      deliveryKey(`${org}/${dayPath(400)}`),
      deliveryKey(`${org}/${dayPath(40)}`),
      deliveryKey(`${org}/${dayPath(31)}`),
    ]
    const young = [
      // The day that holds the cutoff is not over before it: kept.
      deliveryKey(`${org}/${dayPath(30)}`),
      deliveryKey(`${org}/${dayPath(29)}`),
      deliveryKey(`${org}/${dayPath(0)}`),
    ]
    const foreign = [`${org}/2020/01/15/notes.txt`, `${org}/2020/01/15/readme.json`]
    const otherTenant = [deliveryKey(`other-${org}/2020/01/15`)]
    await putS3([...old, ...young, ...foreign, ...otherTenant])

    const ctx = createExecutionContext()
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now() }), env, ctx)
    await waitOnExecutionContext(ctx)

    expect(await s3Keys(`${org}/`)).toEqual([...young, ...foreign].sort())
    expect(await s3Keys(`other-${org}/`)).toEqual(otherTenant)
  })

  it('Should resume a walk where the last run stopped, through the cursor in cron_cursors', async () => {
    const tenant = await createTenant('retention')
    const org = tenant.organizationId
    // {type} before the date: listing order is not date order, so every key is visited.
    const destinationId = await createStorage(tenant, {
      provider: 's3',
      path: '{organizationId}/{type}/{year}/{month}/{day}',
      retention: { days: 7, autoCleanup: true },
    })
    const old = ['a', 'b', 'c', 'd', 'e'].map((type, i) =>
      deliveryKey(`${org}/${type}/${dayPath(8 + i)}`),
    )
    const young = ['a', 'e'].map((type) => deliveryKey(`${org}/${type}/${dayPath(1)}`))
    await putS3([...old, ...young])
    const all = [...old, ...young].sort()
    const now = new Date()

    const passes: Array<{ examined: number; deleted: number; done: boolean } | null> = []
    const cursors: Array<string | null> = []
    for (let run = 0; run < 4; run++) {
      passes.push(await cleanDestination(env, org, destinationId, now, 2))
      cursors.push((await cursorOf(destinationId)).after)
    }
    // Two keys per run, each run starting after the key the previous one stopped at.
    expect(passes.map((pass) => pass?.examined)).toEqual([2, 2, 2, 1])
    expect(passes.map((pass) => pass?.done)).toEqual([false, false, false, true])
    expect(cursors).toEqual([all[1], all[3], all[5], null])
    expect(passes.reduce((sum, pass) => sum + (pass?.deleted ?? 0), 0)).toBe(5)
    expect(await s3Keys(`${org}/`)).toEqual(young.sort())

    // A completed round is not repeated within the hour.
    expect(await cleanDestination(env, org, destinationId, now, 2)).toBeNull()
    expect(
      await cleanDestination(env, org, destinationId, new Date(now.getTime() + 61 * 60_000), 2),
    ).toMatchObject({ examined: 2, deleted: 0 })
  })

  it('Should leave a destination without autoCleanup alone', async () => {
    const tenant = await createTenant('retention')
    const org = tenant.organizationId
    const destinationId = await createStorage(tenant, {
      provider: 's3',
      retention: { days: 1, autoCleanup: false },
    })
    const keys = [deliveryKey(`${org}/2020/01/15`)]
    await putS3(keys)
    expect(await cleanDestination(env, org, destinationId, new Date())).toBeNull()
    expect(await s3Keys(`${org}/`)).toEqual(keys)
  })
})

describe('retention at destinations: R2', () => {
  it("Should delete old objects under the organization's storage prefix and nothing else", async () => {
    const tenant = await createTenant('retention')
    const org = tenant.organizationId
    const destinationId = await createStorage(tenant, {
      provider: 'r2',
      retention: { days: 7, autoCleanup: true },
    })
    const base = `orgs/${org}/storage/`
    const old = [deliveryKey(`${org}/${dayPath(8)}`), deliveryKey(`${org}/${dayPath(100)}`)]
    const young = [deliveryKey(`${org}/${dayPath(6)}`), deliveryKey(`${org}/${dayPath(0)}`)]
    const serviceOwn = [`orgs/${org}/archive/2020-01-15.json.sealed`, `orgs/${org}/payloads/pl_x`]
    const otherTenant = [
      `orgs/other-${org}/storage/other-${org}/2020/01/15/${newId('delivery')}.json`,
    ]
    for (const key of [...old, ...young].map((k) => `${base}${k}`))
      await env.ARTIFACTS.put(key, '{}')
    for (const key of [...serviceOwn, ...otherTenant]) await env.ARTIFACTS.put(key, '{}')

    const pass = await cleanDestination(env, org, destinationId, new Date())
    expect(pass).toEqual({ examined: 2, deleted: 2, done: true })
    expect(await r2Keys(base)).toEqual(young.map((k) => `${base}${k}`).sort())
    expect(await r2Keys(`orgs/${org}/archive/`)).toEqual([serviceOwn[0]])
    expect(await r2Keys(`orgs/${org}/payloads/`)).toEqual([serviceOwn[1]])
    expect(await r2Keys(`orgs/other-${org}/`)).toEqual(otherTenant)
  })

  it('Should keep what another destination writing the same keys must still retain', async () => {
    const tenant = await createTenant('retention')
    const org = tenant.organizationId
    const shortLived = await createStorage(tenant, {
      provider: 'r2',
      retention: { days: 7, autoCleanup: true },
    })
    await createStorage(tenant, { provider: 'r2', retention: { days: 365, autoCleanup: true } })
    const base = `orgs/${org}/storage/`
    const withinYear = deliveryKey(`${org}/${dayPath(30)}`)
    const pastYear = deliveryKey(`${org}/${dayPath(400)}`)
    for (const key of [withinYear, pastYear]) await env.ARTIFACTS.put(`${base}${key}`, '{}')

    await cleanDestination(env, org, shortLived, new Date())
    expect(await r2Keys(base)).toEqual([`${base}${withinYear}`])
  })
})
