import { describe, expect, it } from 'vitest'
import { createDeliveryService, DeliveryServiceError } from '../../src/client/index.ts'
import { addFault, peers } from '../support/peers'
import { serviceClient, tenantClient } from './harness'

/** The fields a caller reads from an error, as one value. */
function fieldsOf(error: unknown) {
  if (!(error instanceof DeliveryServiceError)) throw error
  const { status, code, message, details, requestId } = error
  return { status, code, message, details, requestId }
}

describe('client: errors', () => {
  it("Should carry the service's status, code, message, field details and request id", async () => {
    const { client } = await tenantClient()
    const error = await client
      .createDestination({
        label: 'Broken',
        type: 'webhook',
        config: { webhook: { url: 'not a url', timeout: 10 } },
      })
      .catch((caught: unknown) => caught)
    expect(fieldsOf(error)).toEqual({
      status: 400,
      code: 'validation_error',
      message:
        'config.webhook.url: Invalid URL; config.webhook.timeout: Too small: expected number to be >=1000',
      details: {
        issues: [
          { path: 'config.webhook.url', message: 'Invalid URL' },
          { path: 'config.webhook.timeout', message: 'Too small: expected number to be >=1000' },
        ],
      },
      requestId: expect.stringMatching(/^req_/),
    })
  })

  it('Should answer 401 unauthorized for a key the service does not know', async () => {
    const client = serviceClient({ apiKey: 'dsk_nobody_abcdefghijklmnopqrst_00' })
    const error = await client.getSettings().catch((caught: unknown) => caught)
    expect(fieldsOf(error)).toEqual({
      status: 401,
      code: 'unauthorized',
      message: 'The API key is not valid',
      details: undefined,
      requestId: expect.stringMatching(/^req_/),
    })
  })

  it('Should refuse tenant calls without a key and operator calls without the admin token', async () => {
    const client = serviceClient()
    expect(fieldsOf(await client.getSettings().catch((caught: unknown) => caught))).toEqual({
      status: 0,
      code: 'missing_api_key',
      message: 'This client has no API key: pass apiKey or apiKeys',
      details: undefined,
      requestId: null,
    })
    expect(
      fieldsOf(
        await client
          .getSettings({ organizationId: 'hospital-001' })
          .catch((caught: unknown) => caught),
      ),
    ).toEqual({
      status: 0,
      code: 'missing_api_key',
      message: 'No API key for organization "hospital-001": add it to apiKeys',
      details: undefined,
      requestId: null,
    })
    expect(fieldsOf(await client.listOrganizations().catch((caught: unknown) => caught))).toEqual({
      status: 0,
      code: 'missing_admin_token',
      message: 'This call needs the adminToken option',
      details: undefined,
      requestId: null,
    })
  })

  it('Should report an answer without the error body as unexpected_response', async () => {
    const origin = peers().webhook.url
    await addFault(
      origin,
      { path: '/v1/settings' },
      { mode: 'status', status: 502, body: 'Bad gateway' },
    )
    const client = createDeliveryService({ baseUrl: origin, apiKey: 'dsk_any' })
    expect(fieldsOf(await client.getSettings().catch((caught: unknown) => caught))).toEqual({
      status: 502,
      code: 'unexpected_response',
      message: "HTTP 502 without the service's error body: Bad gateway",
      details: undefined,
      requestId: null,
    })
  })

  it('Should give up on a request that gets no answer in timeoutMs', async () => {
    const origin = peers().webhook.url
    await addFault(origin, { path: '/v1/deliveries/dlv_slow' }, { mode: 'hang', ms: 3000 })
    const client = createDeliveryService({ baseUrl: origin, apiKey: 'dsk_any', timeoutMs: 200 })
    const error = await client.getDeliveryStatus('dlv_slow').catch((caught: unknown) => caught)
    expect(fieldsOf(error)).toMatchObject({
      status: 0,
      code: 'timeout',
      message: 'GET /v1/deliveries/dlv_slow: no answer in 200 ms',
    })
  })

  it('Should report a connection that fails as network_error', async () => {
    // Port 9 (discard) has no listener on the test machine.
    const client = createDeliveryService({ baseUrl: 'http://127.0.0.1:9', apiKey: 'dsk_any' })
    const error = await client.getSettings().catch((caught: unknown) => caught)
    expect(fieldsOf(error)).toMatchObject({ status: 0, code: 'network_error' })
    expect((error as Error).message).toMatch(/^GET \/v1\/settings: /)
  })
})
