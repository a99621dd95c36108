import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { openText, sealedKeyId } from '../../src/lib/at-rest'
import { ADMIN_TOKEN, call, createTenant } from '../support/api'
import { createWebhookDestination } from '../support/delivery-helpers'
import { randomAesKey } from '../support/jobs'
import { peers } from '../support/peers'

const ORIGINAL_KEYS = env.ENCRYPTION_KEYS
const NEW_KEY = `k2:${randomAesKey()}`

/** Calls the Worker's app with `ENCRYPTION_KEYS` as a deployment that rotated keys would have it. */
async function rotateWith(keys: string, token: string | null = ADMIN_TOKEN) {
  const app = createApp()
  const response = await app.fetch(
    new Request('http://service.test/v1/admin/encryption-key/rotate', {
      method: 'POST',
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }),
    { ...env, ENCRYPTION_KEYS: keys },
    createExecutionContext(),
  )
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

async function storedSecrets(): Promise<Map<string, string>> {
  const { results } = await env.DB.prepare(
    'SELECT id, secrets FROM destinations WHERE secrets IS NOT NULL',
  ).all<{ id: string; secrets: string }>()
  return new Map(results.map((row) => [row.id, row.secrets]))
}

describe('at-rest key rotation for stored credentials', () => {
  it('Should re-encrypt every stored credential under the first key, keep its value, and be safe to repeat', async () => {
    const tenant = await createTenant('rekey')
    const hook = await createWebhookDestination(tenant.apiKey)
    const bucket = await call('/v1/destinations', {
      token: tenant.apiKey,
      body: {
        label: 'Archive',
        type: 'storage',
        config: {
          storage: {
            provider: 's3',
            config: {
              bucket: 'audit-archive',
              endpoint: peers().s3.url,
              accessKeyId: peers().s3.accessKeyId,
              secretAccessKey: peers().s3.secretAccessKey,
            },
          },
        },
      },
    })
    expect(bucket.status).toBe(201)

    const before = await storedSecrets()
    expect(before.size).toBeGreaterThanOrEqual(2)
    const plain = new Map<string, string>()
    for (const [id, sealed] of before) {
      expect(sealedKeyId(sealed)).toBe('k1')
      plain.set(id, await openText(ORIGINAL_KEYS, sealed))
    }

    const rotated = await rotateWith(`${NEW_KEY},${ORIGINAL_KEYS}`)
    expect(rotated).toEqual({
      status: 200,
      json: {
        keyId: 'k2',
        reencrypted: before.size,
        alreadyCurrent: 0,
        changedMeanwhile: 0,
        unreadable: 0,
      },
    })
    const after = await storedSecrets()
    for (const [id, sealed] of after) {
      expect(sealedKeyId(sealed)).toBe('k2')
      // Opens with the new key alone, to the very same credentials.
      expect(await openText(NEW_KEY, sealed)).toBe(plain.get(id))
      await expect(openText(ORIGINAL_KEYS, sealed)).rejects.toThrow()
    }
    // Read through the API of the rotated deployment, the destination is unchanged.
    const app = createApp()
    const read = await app.fetch(
      new Request(`http://service.test/v1/destinations/${hook.id}`, {
        headers: { authorization: `Bearer ${tenant.apiKey}` },
      }),
      { ...env, ENCRYPTION_KEYS: `${NEW_KEY},${ORIGINAL_KEYS}` },
      createExecutionContext(),
    )
    expect(read.status).toBe(200)

    expect(await rotateWith(`${NEW_KEY},${ORIGINAL_KEYS}`)).toEqual({
      status: 200,
      json: {
        keyId: 'k2',
        reencrypted: 0,
        alreadyCurrent: after.size,
        changedMeanwhile: 0,
        unreadable: 0,
      },
    })

    // And back, so the rest of this file's storage opens with the test key again.
    const back = await rotateWith(`${ORIGINAL_KEYS},${NEW_KEY}`)
    expect(back.json).toMatchObject({ keyId: 'k1', reencrypted: after.size })
    for (const sealed of (await storedSecrets()).values()) expect(sealedKeyId(sealed)).toBe('k1')
  })

  it('Should leave and count a credential that no listed key opens, and re-seal the rest', async () => {
    const tenant = await createTenant('rekey')
    const lost = await createWebhookDestination(tenant.apiKey)
    const kept = (await storedSecrets()).get(lost.id) as string
    await env.DB.prepare('UPDATE destinations SET secrets = ? WHERE id = ?')
      .bind('v1.retired.AAAAAAAAAAAAAAAA.AAAA', lost.id)
      .run()

    const result = await rotateWith(ORIGINAL_KEYS)
    expect(result.status).toBe(200)
    expect(result.json).toMatchObject({ keyId: 'k1', reencrypted: 0, unreadable: 1 })
    expect((await storedSecrets()).get(lost.id)).toBe('v1.retired.AAAAAAAAAAAAAAAA.AAAA')
    await env.DB.prepare('UPDATE destinations SET secrets = ? WHERE id = ?')
      .bind(kept, lost.id)
      .run()
  })

  it('Should answer 401 without the admin token, and to a tenant key', async () => {
    const tenant = await createTenant('rekey')
    expect((await rotateWith(ORIGINAL_KEYS, null)).status).toBe(401)
    const withTenantKey = await rotateWith(ORIGINAL_KEYS, tenant.apiKey)
    expect(withTenantKey.status).toBe(401)
    expect(withTenantKey.json).toEqual({
      error: {
        code: 'unauthorized',
        message: 'The admin token is not valid',
        requestId: expect.any(String),
      },
    })
  })
})
