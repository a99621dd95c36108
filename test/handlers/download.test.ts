import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { deliverDownload } from '../../src/handlers/download'
import { sha256Hex } from '../../src/lib/crypto'
import { r2Keys } from '../../src/lib/r2-keys'
import { call, createTenant } from '../support/api'
import { downloadDestination, makeJob } from '../support/jobs'
import { peers, recorded, registerWebhook, uniquePath } from '../support/peers'

const LINK = /^http:\/\/127\.0\.0\.1:8787\/v1\/downloads\/([A-Za-z0-9_-]{43})$/

async function issueLink(
  config: Parameters<typeof downloadDestination>[0] = {},
  organizationId = 'hospital-001',
) {
  const destination = downloadDestination(config, organizationId)
  const job = makeJob(destination.id, {}, organizationId)
  const outcome = await deliverDownload(job, destination, env)
  if (outcome.kind !== 'delivered')
    throw new Error(`download not delivered: ${JSON.stringify(outcome)}`)
  const token = LINK.exec(outcome.reference.downloadUrl ?? '')?.[1] ?? ''
  return { destination, job, outcome, token, path: `/v1/downloads/${token}` }
}

describe('download handler', () => {
  it('Should seal the envelope in R2 and answer a link on PUBLIC_BASE_URL whose token is stored only hashed', async () => {
    const before = Date.now()
    const { destination, job, outcome, token } = await issueLink({ expiresIn: 3600 })

    expect(outcome.reference.downloadUrl).toMatch(LINK)
    const expiresAt = Date.parse(outcome.reference.expiresAt ?? '')
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3_600_000)
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000)
    const stored = await env.ARTIFACTS.get(
      r2Keys.download('hospital-001', job.deliveryId, destination.id),
    )
    const sealed = (await stored?.text()) ?? ''
    expect(sealed).toMatch(/^v1\.k1\./)
    expect(sealed).not.toContain('P-1001')
    const row = await env.DB.prepare('SELECT * FROM downloads WHERE delivery_id = ?')
      .bind(job.deliveryId)
      .first()
    expect(row).toMatchObject({
      token_hash: await sha256Hex(token),
      organization_id: 'hospital-001',
      destination_id: destination.id,
      max_downloads: 3,
      download_count: 0,
      revoked_at: null,
      expires_at: outcome.reference.expiresAt,
    })
    expect(JSON.stringify(row)).not.toContain(token)
  })

  it('Should serve the envelope byte for byte and count each download', async () => {
    const { job, path } = await issueLink({ maxDownloads: 3 })

    const first = await call(path)
    expect(first.status).toBe(200)
    expect(first.text).toBe(job.envelope)
    expect(first.headers.get('content-type')).toBe('application/json')
    expect(first.headers.get('cache-control')).toBe('no-store')
    expect(first.headers.get('content-disposition')).toBe(
      `attachment; filename="${job.deliveryId}.json"`,
    )
    expect(first.headers.get('x-downloads-remaining')).toBe('2')
    expect((await call(path)).headers.get('x-downloads-remaining')).toBe('1')
    expect((await call(path)).headers.get('x-downloads-remaining')).toBe('0')
  })

  it('Should answer 410 once the maximum number of downloads is reached', async () => {
    const { path } = await issueLink({ maxDownloads: 1 })
    expect((await call(path)).status).toBe(200)
    const gone = await call(path)
    expect(gone.status).toBe(410)
    expect(gone.json).toEqual({
      error: {
        code: 'gone',
        message: 'This download link reached its maximum of 1 downloads',
        requestId: expect.any(String),
      },
    })
  })

  it('Should never serve more than the maximum to concurrent requests', async () => {
    const { path } = await issueLink({ maxDownloads: 2 })
    const statuses = (await Promise.all(Array.from({ length: 6 }, () => call(path)))).map(
      (r) => r.status,
    )
    expect(statuses.filter((status) => status === 200)).toHaveLength(2)
    expect(statuses.filter((status) => status === 410)).toHaveLength(4)
  })

  it('Should answer 410 after expiry', async () => {
    const { path, outcome } = await issueLink({ expiresIn: 1 })
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const gone = await call(path)
    expect(gone.status).toBe(410)
    expect(gone.json.error).toEqual({
      code: 'gone',
      message: `This download link expired at ${outcome.reference.expiresAt}`,
      requestId: expect.any(String),
    })
  })

  it('Should answer 404 to an altered or malformed token, exactly as to an unknown one', async () => {
    const { token } = await issueLink()
    const altered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`
    for (const candidate of [altered, token.slice(1), `${token}x`, 'not-a-token']) {
      const response = await call(`/v1/downloads/${candidate}`)
      expect(response.status).toBe(404)
      expect(response.json.error).toEqual({
        code: 'not_found',
        message: 'Download link not found',
        requestId: expect.any(String),
      })
    }
  })

  it('Should replace the link on a retry: only the newest token works', async () => {
    const destination = downloadDestination()
    const job = makeJob(destination.id)
    const first = await deliverDownload(job, destination, env)
    const second = await deliverDownload({ ...job, attempt: 2 }, destination, env)
    const firstUrl = first.kind === 'delivered' ? (first.reference.downloadUrl ?? '') : ''
    const secondUrl = second.kind === 'delivered' ? (second.reference.downloadUrl ?? '') : ''
    expect(secondUrl).not.toBe(firstUrl)
    expect((await call(new URL(firstUrl).pathname)).status).toBe(404)
    expect((await call(new URL(secondUrl).pathname)).text).toBe(job.envelope)
  })

  it('Should retry when the envelope cannot be stored', async () => {
    const destination = downloadDestination()
    const failing = {
      ...env,
      ARTIFACTS: {
        put: async () => {
          throw new Error('R2 unavailable')
        },
      } as unknown as R2Bucket,
    }
    expect(await deliverDownload(makeJob(destination.id), destination, failing)).toEqual({
      kind: 'retryable',
      code: 'storage_error',
      message: 'The download could not be stored',
    })
  })
})

describe('download revocation', () => {
  it("Should revoke with a key of the link's organization: the link answers 410 and the envelope is deleted", async () => {
    const tenant = await createTenant('dl')
    const { path, job, destination } = await issueLink({}, tenant.organizationId)

    const revoked = await call(path, { method: 'DELETE', token: tenant.apiKey })

    expect(revoked.status).toBe(200)
    expect(revoked.json).toEqual({
      id: expect.stringMatching(/^dwn_/),
      deliveryId: job.deliveryId,
      destinationId: destination.id,
      expiresAt: expect.any(String),
      maxDownloads: 3,
      downloadCount: 0,
      revokedAt: expect.any(String),
    })
    const gone = await call(path)
    expect(gone.status).toBe(410)
    expect(gone.json.error.message).toBe('This download link was revoked')
    expect(
      await env.ARTIFACTS.get(
        r2Keys.download(tenant.organizationId, job.deliveryId, destination.id),
      ),
    ).toBeNull()
    const again = await call(path, { method: 'DELETE', token: tenant.apiKey })
    expect(again.json.revokedAt).toBe(revoked.json.revokedAt)
  })

  it("Should answer 404 to another organization's key, leaving the link working", async () => {
    const owner = await createTenant('dl')
    const other = await createTenant('dl')
    const { path } = await issueLink({}, owner.organizationId)

    const refused = await call(path, { method: 'DELETE', token: other.apiKey })

    expect(refused.status).toBe(404)
    expect(refused.json.error).toEqual({
      code: 'not_found',
      message: 'Download link not found',
      requestId: expect.any(String),
    })
    expect((await call(path)).status).toBe(200)
  })

  it('Should need a key to revoke', async () => {
    const { path } = await issueLink()
    const response = await call(path, { method: 'DELETE' })
    expect(response.status).toBe(401)
    expect((await call(path)).status).toBe(200)
  })
})

describe('download link notification', () => {
  it('Should deliver each new link to the notification webhook as a signed download.ready event', async () => {
    const tenant = await createTenant('dl')
    const path = uniquePath()
    const created = await call('/v1/destinations', {
      token: tenant.apiKey,
      body: {
        label: 'link receiver',
        type: 'webhook',
        config: { webhook: { url: `${peers().webhook.url}${path}` } },
      },
    })
    expect(created.status).toBe(201)
    await registerWebhook(path, [created.json.config.webhook.secret])

    const { outcome, job, destination } = await issueLink(
      { notifyDestinationId: created.json.id },
      tenant.organizationId,
    )

    const [request, ...rest] = await recorded(peers().webhook.url, { path })
    expect(rest).toEqual([])
    expect(request?.check?.ok).toBe(true)
    expect(request?.headers['webhook-id']).toMatch(
      new RegExp(`^${job.messageId}\\.link\\.[0-9a-f]{16}$`),
    )
    const envelope = JSON.parse(request?.body ?? '{}')
    expect(envelope).toEqual({
      id: job.deliveryId,
      type: 'download.ready',
      timestamp: job.acceptedAt,
      organizationId: tenant.organizationId,
      sequence: job.sequence,
      data: {
        downloadUrl: outcome.reference.downloadUrl,
        expiresAt: outcome.reference.expiresAt,
        maxDownloads: 3,
        deliveryId: job.deliveryId,
        destinationId: destination.id,
        payloadType: 'phi-access-audit',
      },
      metadata: { eventType: 'download.ready', payloadType: 'phi-access-audit' },
      correlationId: 'corr-7',
      tags: ['hipaa', 'phi-access'],
    })
    expect(request?.body).not.toContain('P-1001')
  })

  it('Should fail the attempt when the notification destination refuses the link', async () => {
    const tenant = await createTenant('dl')
    const path = uniquePath()
    const created = await call('/v1/destinations', {
      token: tenant.apiKey,
      body: {
        label: 'strict receiver',
        type: 'webhook',
        config: { webhook: { url: `${peers().webhook.url}${path}` } },
      },
    })
    await registerWebhook(path, ['whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY='])
    const destination = downloadDestination(
      { notifyDestinationId: created.json.id },
      tenant.organizationId,
    )

    expect(
      await deliverDownload(makeJob(destination.id, {}, tenant.organizationId), destination, env),
    ).toEqual({
      kind: 'permanent',
      code: 'http_401',
      message: `Notifying destination ${created.json.id} failed: Receiver answered 401: {"error":"invalid signature"}`,
      httpStatus: 401,
    })
  })

  it('Should give up when the notification destination does not exist', async () => {
    const destination = downloadDestination({ notifyDestinationId: 'dst_aaaaaaaaaaaaaaaaaaaa' })
    expect(await deliverDownload(makeJob(destination.id), destination, env)).toEqual({
      kind: 'permanent',
      code: 'notify_destination_invalid',
      message:
        'Notification destination "dst_aaaaaaaaaaaaaaaaaaaa" is not an e-mail or webhook destination of the organization',
    })
  })
})
