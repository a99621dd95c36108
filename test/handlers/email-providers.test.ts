import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { checkEmailProvider, deliverEmail } from '../../src/handlers/email/deliver'
import { emailDestination, makeJob } from '../support/jobs'
import { addFault, peers, type RecordedRequest, recorded, uniqueRecipient } from '../support/peers'

type Provider = 'ses' | 'sendgrid' | 'resend' | 'postmark'

function destinationFor(
  service: Provider,
  recipient: string,
  overrides: Record<string, unknown> = {},
) {
  const p = peers()
  const byService = {
    ses: {
      config: {
        region: 'us-east-1',
        configurationSet: 'hipaa-compliant-emails',
        accessKeyId: p.ses.accessKeyId,
        secretAccessKey: p.ses.secretAccessKey,
        endpoint: p.ses.url,
        ...overrides,
      },
    },
    sendgrid: { apiKey: p.sendgrid.apiKey, config: { endpoint: p.sendgrid.url }, ...overrides },
    resend: { apiKey: p.resend.apiKey, config: { endpoint: p.resend.url }, ...overrides },
    postmark: {
      apiKey: p.postmark.serverToken,
      config: { endpoint: p.postmark.url },
      ...overrides,
    },
  }[service]
  return emailDestination({
    service,
    recipients: [recipient],
    bodyTemplate: 'Patient {{patientId}} accessed by {{userId}}.',
    htmlTemplate: '<p>{{patientId}}</p>',
    ...byService,
  })
}

/** The one request this test's recipient caused at the provider path. */
async function requestFor(
  baseUrl: string,
  path: string,
  recipient: string,
): Promise<RecordedRequest> {
  const matching = (await recorded(baseUrl, { path })).filter((request) =>
    request.body.includes(recipient),
  )
  expect(matching).toHaveLength(1)
  return matching[0] as RecordedRequest
}

const decode = (base64: string) =>
  new TextDecoder().decode(Uint8Array.from(atob(base64), (char) => char.charCodeAt(0)))

describe('SES', () => {
  it('Should send through SendEmail v2 with a SigV4 signature the stand-in recomputes', async () => {
    const recipient = uniqueRecipient()
    const destination = destinationFor('ses', recipient)
    const job = makeJob(destination.id)

    const outcome = await deliverEmail(job, destination, env)

    const request = await requestFor(peers().ses.url, '/v2/email/outbound-emails', recipient)
    expect(request.check).toEqual({ ok: true, details: { region: 'us-east-1' } })
    const body = JSON.parse(request.body)
    expect(outcome).toEqual({
      kind: 'delivered',
      reference: { messageId: expect.stringMatching(/^0100/), httpStatus: 200 },
    })
    expect(body).toEqual({
      FromEmailAddress: 'hipaa-audit@hospital.test',
      Destination: { ToAddresses: [recipient] },
      Content: {
        Simple: {
          Subject: { Data: '[HIPAA] Audit Event Notification - phi-access', Charset: 'UTF-8' },
          Body: {
            Text: { Data: 'Patient P-1001 accessed by dr.smith.', Charset: 'UTF-8' },
            Html: { Data: '<p>P-1001</p>', Charset: 'UTF-8' },
          },
          Headers: [
            { Name: 'X-Audit-Message-Id', Value: job.messageId },
            { Name: 'X-Audit-Delivery-Id', Value: job.deliveryId },
          ],
          Attachments: [
            {
              FileName: `${job.deliveryId}.json`,
              RawContent: expect.any(String),
              ContentType: 'application/json',
              ContentDisposition: 'ATTACHMENT',
              ContentTransferEncoding: 'BASE64',
            },
          ],
        },
      },
      ConfigurationSetName: 'hipaa-compliant-emails',
    })
    expect(decode(body.Content.Simple.Attachments[0].RawContent)).toBe(job.envelope)
  })

  it('Should give up when SES rejects the signature', async () => {
    const destination = destinationFor('ses', uniqueRecipient(), {
      secretAccessKey: 'wrong-secret',
    })
    expect(await deliverEmail(makeJob(destination.id), destination, env)).toEqual({
      kind: 'permanent',
      code: 'http_403',
      message:
        'SES answered 403: {"message":"The request signature we calculated does not match the signature you provided"}',
      httpStatus: 403,
    })
  })

  it('Should retry when SES throttles, honouring Retry-After', async () => {
    const destination = destinationFor('ses', uniqueRecipient())
    await addFault(
      peers().ses.url,
      { path: '/v2/email/outbound-emails' },
      {
        mode: 'status',
        status: 429,
        headers: { 'retry-after': '3' },
        body: '{"message":"Maximum sending rate exceeded."}',
      },
    )
    expect(await deliverEmail(makeJob(destination.id), destination, env)).toEqual({
      kind: 'retryable',
      code: 'http_429',
      message: 'SES answered 429: {"message":"Maximum sending rate exceeded."}',
      httpStatus: 429,
      retryAfterMs: 3000,
    })
  })

  it("Should give up without keys of its own or the service's", async () => {
    const destination = destinationFor('ses', uniqueRecipient(), {
      accessKeyId: undefined,
      secretAccessKey: undefined,
    })
    expect(await deliverEmail(makeJob(destination.id), destination, env)).toEqual({
      kind: 'permanent',
      code: 'missing_credentials',
      message: 'The SES destination has no AWS keys',
    })
  })

  it('Should check the credentials with GetAccount, sending nothing', async () => {
    const destination = destinationFor('ses', uniqueRecipient())
    expect(await checkEmailProvider(destination, env)).toEqual({
      kind: 'delivered',
      reference: { httpStatus: 200 },
    })
    const wrong = destinationFor('ses', uniqueRecipient(), { secretAccessKey: 'wrong-secret' })
    expect(await checkEmailProvider(wrong, env)).toMatchObject({
      kind: 'permanent',
      code: 'http_403',
    })
  })
})

describe('SendGrid', () => {
  it('Should send through mail/send with the Bearer key and the documented body', async () => {
    const recipient = uniqueRecipient()
    const destination = destinationFor('sendgrid', recipient)
    const job = makeJob(destination.id)

    const outcome = await deliverEmail(job, destination, env)

    const request = await requestFor(peers().sendgrid.url, '/v3/mail/send', recipient)
    expect(request.check).toEqual({ ok: true })
    expect(request.headers.authorization).toBe(`Bearer ${peers().sendgrid.apiKey}`)
    expect(outcome).toEqual({
      kind: 'delivered',
      reference: { messageId: expect.stringMatching(/^[0-9a-f]{22}$/), httpStatus: 202 },
    })
    const body = JSON.parse(request.body)
    expect(body).toEqual({
      personalizations: [{ to: [{ email: recipient }] }],
      from: { email: 'hipaa-audit@hospital.test' },
      subject: '[HIPAA] Audit Event Notification - phi-access',
      content: [
        { type: 'text/plain', value: 'Patient P-1001 accessed by dr.smith.' },
        { type: 'text/html', value: '<p>P-1001</p>' },
      ],
      attachments: [
        {
          content: expect.any(String),
          filename: `${job.deliveryId}.json`,
          type: 'application/json',
          disposition: 'attachment',
        },
      ],
      headers: { 'X-Audit-Message-Id': job.messageId, 'X-Audit-Delivery-Id': job.deliveryId },
      custom_args: { messageId: job.messageId },
    })
    expect(decode(body.attachments[0].content)).toBe(job.envelope)
  })

  it('Should give up on a refused key', async () => {
    const destination = destinationFor('sendgrid', uniqueRecipient(), { apiKey: 'SG.wrong' })
    expect(await deliverEmail(makeJob(destination.id), destination, env)).toEqual({
      kind: 'permanent',
      code: 'http_401',
      message:
        'SendGrid answered 401: {"errors":[{"message":"The provided authorization grant is invalid, expired, or revoked","field":null,"help":null}]}',
      httpStatus: 401,
    })
  })

  it('Should check the key by reading its scopes', async () => {
    const destination = destinationFor('sendgrid', uniqueRecipient())
    expect(await checkEmailProvider(destination, env)).toEqual({
      kind: 'delivered',
      reference: { httpStatus: 200 },
    })
  })
})

describe('Resend', () => {
  it('Should send once per message id: a retry gets the original id back', async () => {
    const recipient = uniqueRecipient()
    const destination = destinationFor('resend', recipient)
    const job = makeJob(destination.id)

    const first = await deliverEmail(job, destination, env)
    const retry = await deliverEmail({ ...job, attempt: 2 }, destination, env)

    expect(first).toEqual({
      kind: 'delivered',
      reference: { messageId: expect.any(String), httpStatus: 200 },
    })
    expect(retry).toEqual(first)
    const requests = (await recorded(peers().resend.url, { path: '/emails' })).filter((request) =>
      request.body.includes(recipient),
    )
    expect(requests.map((request) => request.headers['idempotency-key'])).toEqual([
      job.messageId,
      job.messageId,
    ])
    expect(requests.map((request) => request.check?.reason)).toEqual(['sent', 'replayed'])
    const body = JSON.parse(requests[0]?.body ?? '{}')
    expect(body).toEqual({
      from: 'hipaa-audit@hospital.test',
      to: [recipient],
      subject: '[HIPAA] Audit Event Notification - phi-access',
      text: 'Patient P-1001 accessed by dr.smith.',
      html: '<p>P-1001</p>',
      attachments: [
        {
          filename: `${job.deliveryId}.json`,
          content: expect.any(String),
          content_type: 'application/json',
        },
      ],
      headers: { 'X-Audit-Message-Id': job.messageId, 'X-Audit-Delivery-Id': job.deliveryId },
    })
    expect(decode(body.attachments[0].content)).toBe(job.envelope)
  })

  it('Should give up on an invalid key', async () => {
    const destination = destinationFor('resend', uniqueRecipient(), { apiKey: 're_wrong' })
    expect(await deliverEmail(makeJob(destination.id), destination, env)).toEqual({
      kind: 'permanent',
      code: 'http_403',
      message:
        'Resend answered 403: {"statusCode":403,"name":"invalid_api_key","message":"API key is invalid"}',
      httpStatus: 403,
    })
  })

  it('Should check the key by listing domains', async () => {
    const destination = destinationFor('resend', uniqueRecipient())
    expect(await checkEmailProvider(destination, env)).toEqual({
      kind: 'delivered',
      reference: { httpStatus: 200 },
    })
  })
})

describe('Postmark', () => {
  it('Should send through /email with the server token and the documented body', async () => {
    const recipient = uniqueRecipient()
    const destination = destinationFor('postmark', recipient)
    const job = makeJob(destination.id)

    const outcome = await deliverEmail(job, destination, env)

    const request = await requestFor(peers().postmark.url, '/email', recipient)
    expect(request.check).toEqual({ ok: true })
    expect(outcome).toEqual({
      kind: 'delivered',
      reference: { messageId: expect.any(String), httpStatus: 200 },
    })
    const body = JSON.parse(request.body)
    expect(body).toEqual({
      From: 'hipaa-audit@hospital.test',
      To: recipient,
      Subject: '[HIPAA] Audit Event Notification - phi-access',
      TextBody: 'Patient P-1001 accessed by dr.smith.',
      HtmlBody: '<p>P-1001</p>',
      Headers: [
        { Name: 'X-Audit-Message-Id', Value: job.messageId },
        { Name: 'X-Audit-Delivery-Id', Value: job.deliveryId },
      ],
      Attachments: [
        {
          Name: `${job.deliveryId}.json`,
          Content: expect.any(String),
          ContentType: 'application/json',
        },
      ],
      Metadata: { messageId: job.messageId },
      MessageStream: 'outbound',
    })
    expect(decode(body.Attachments[0].Content)).toBe(job.envelope)
  })

  it('Should give up on a wrong server token', async () => {
    const destination = destinationFor('postmark', uniqueRecipient(), { apiKey: 'wrong-token' })
    expect(await deliverEmail(makeJob(destination.id), destination, env)).toEqual({
      kind: 'permanent',
      code: 'http_401',
      message:
        'Postmark answered 401: {"ErrorCode":10,"Message":"Request does not contain a valid Server token."}',
      httpStatus: 401,
    })
  })

  it('Should check the token by reading the server', async () => {
    const destination = destinationFor('postmark', uniqueRecipient())
    expect(await checkEmailProvider(destination, env)).toEqual({
      kind: 'delivered',
      reference: { httpStatus: 200 },
    })
  })
})

describe('provider endpoint override', () => {
  it('Should refuse a loopback endpoint when the development flag is off', async () => {
    const destination = destinationFor('resend', uniqueRecipient())
    expect(
      await deliverEmail(makeJob(destination.id), destination, {
        ...env,
        ALLOW_LOOPBACK_DESTINATIONS: 'false',
      }),
    ).toEqual({
      kind: 'permanent',
      code: 'destination_refused',
      message:
        'Resend endpoint must not point at loopback (127.0.0.1); loopback is allowed only under the development flag ALLOW_LOOPBACK_DESTINATIONS',
    })
  })
})
