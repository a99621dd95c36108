import { describe, expect, it } from 'vitest'
import { call, createTenant } from '../support/api'

type Tenant = Awaited<ReturnType<typeof createTenant>>
type Issue = { path: string; message: string }

function create(tenant: Tenant, body: unknown) {
  return call('/v1/destinations', { token: tenant.apiKey, body })
}

/** Asserts the whole 400 body: code, the message listing every issue, and the issues. */
function expectValidation(response: Awaited<ReturnType<typeof call>>, issues: Issue[]) {
  expect(response.status).toBe(400)
  expect(response.json).toEqual({
    error: {
      code: 'validation_error',
      message: issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
      details: { issues },
      requestId: expect.any(String),
    },
  })
}

const webhook = (config: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  label: 'Hook',
  type: 'webhook',
  config: { webhook: { url: 'https://example.com/hook', ...config } },
  ...extra,
})

const email = (config: Record<string, unknown>) => ({
  label: 'Mail',
  type: 'email',
  config: {
    email: {
      from: 'audit@hospital.com',
      subject: 'Audit {{eventType}}',
      recipients: ['compliance@hospital.com'],
      ...config,
    },
  },
})

const s3 = (config: Record<string, unknown>, storage: Record<string, unknown> = {}) => ({
  label: 'Bucket',
  type: 'storage',
  config: {
    storage: {
      provider: 's3',
      config: {
        bucket: 'audit-archive',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        ...config,
      },
      ...storage,
    },
  },
})

describe('POST /v1/destinations: request format', () => {
  it('Should answer 400 invalid_json to malformed JSON', async () => {
    const tenant = await createTenant()
    const response = await call('/v1/destinations', {
      token: tenant.apiKey,
      rawBody: '{"label":',
    })
    expect(response.status).toBe(400)
    expect(response.json.error.code).toBe('invalid_json')
  })

  it('Should answer 415 to a body that is not JSON', async () => {
    const tenant = await createTenant()
    const response = await call('/v1/destinations', {
      token: tenant.apiKey,
      rawBody: 'label=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(response.status).toBe(415)
    expect(response.json.error).toEqual({
      code: 'unsupported_media_type',
      message: 'Content-Type must be application/json, got "application/x-www-form-urlencoded"',
      requestId: expect.any(String),
    })
  })

  it('Should refuse unknown fields, naming them', async () => {
    const tenant = await createTenant()
    expectValidation(await create(tenant, { ...webhook({}), colour: 'blue' }), [
      { path: '(body)', message: 'Unrecognized key: "colour"' },
    ])
    expectValidation(await create(tenant, webhook({ retries: 3 })), [
      { path: 'config.webhook', message: 'Unrecognized key: "retries"' },
    ])
  })

  it('Should refuse a malformed organizationId with 400, before any tenant check', async () => {
    const tenant = await createTenant()
    expectValidation(await create(tenant, webhook({}, { organizationId: 'Not A Slug' })), [
      {
        path: 'organizationId',
        message: 'must be a slug: lowercase letters, digits and single hyphens',
      },
    ])
  })
})

describe('POST /v1/destinations: common fields', () => {
  it('Should require a label, a known type and the config of that type', async () => {
    const tenant = await createTenant()
    expectValidation(await create(tenant, { type: 'webhook', config: {} }), [
      { path: 'label', message: 'Invalid input: expected string, received undefined' },
    ])
    expectValidation(await create(tenant, { label: 'x', type: 'fax', config: {} }), [
      {
        path: 'type',
        message: 'Invalid option: expected one of "webhook"|"storage"|"email"|"download"',
      },
    ])
    expectValidation(await create(tenant, { label: 'x', type: 'webhook', config: {} }), [
      { path: 'config.webhook', message: 'is required for a webhook destination' },
    ])
  })

  it('Should refuse a config of another type beside the right one', async () => {
    const tenant = await createTenant()
    const body = webhook({})
    const response = await create(tenant, {
      ...body,
      config: { ...body.config, storage: { provider: 'r2' } },
    })
    expectValidation(response, [
      { path: 'config.storage', message: 'does not belong to a webhook destination' },
    ])
  })

  it('Should refuse labels that clash with how deliveries name destinations', async () => {
    const tenant = await createTenant()
    expectValidation(await create(tenant, webhook({}, { label: 'Default' })), [
      {
        path: 'label',
        message: 'is reserved: deliveries send to "default" for the default destinations',
      },
    ])
    expectValidation(await create(tenant, webhook({}, { label: 'dst_mine' })), [
      { path: 'label', message: 'must not start with "dst_", the prefix of destination ids' },
    ])
    expectValidation(await create(tenant, webhook({}, { label: '   ' })), [
      { path: 'label', message: 'Too small: expected string to have >=1 characters' },
    ])
  })

  it('Should answer 409 label_taken to a label the organization already uses', async () => {
    const tenant = await createTenant()
    expect((await create(tenant, webhook({}, { label: 'Twice' }))).status).toBe(201)
    const response = await create(tenant, webhook({}, { label: 'Twice' }))
    expect(response.status).toBe(409)
    expect(response.json).toEqual({
      error: {
        code: 'label_taken',
        message: 'Label "Twice" is already used by another destination of this organization',
        details: { issues: [{ path: 'label', message: 'is already used in this organization' }] },
        requestId: expect.any(String),
      },
    })
  })

  it('Should allow the same label in two organizations', async () => {
    const a = await createTenant()
    const b = await createTenant()
    expect((await create(a, webhook({}, { label: 'Shared name' }))).status).toBe(201)
    expect((await create(b, webhook({}, { label: 'Shared name' }))).status).toBe(201)
  })

  it('Should validate the delivery policy', async () => {
    const tenant = await createTenant()
    expectValidation(await create(tenant, webhook({}, { delivery: { ordering: 'random' } })), [
      { path: 'delivery.ordering', message: 'Invalid option: expected one of "parallel"|"strict"' },
    ])
  })
})

describe('POST /v1/destinations: webhook', () => {
  it('Should name config.webhook.url when it is missing', async () => {
    const tenant = await createTenant()
    const response = await create(tenant, {
      label: 'No url',
      type: 'webhook',
      config: { webhook: { method: 'POST' } },
    })
    expectValidation(response, [
      { path: 'config.webhook.url', message: 'Invalid input: expected string, received undefined' },
    ])
  })

  it('Should bound the timeout to 1000..30000 ms and the method to POST, PUT, PATCH', async () => {
    const tenant = await createTenant()
    expectValidation(await create(tenant, webhook({ timeout: 999 })), [
      { path: 'config.webhook.timeout', message: 'Too small: expected number to be >=1000' },
    ])
    expectValidation(await create(tenant, webhook({ timeout: 30_001 })), [
      { path: 'config.webhook.timeout', message: 'Too big: expected number to be <=30000' },
    ])
    expectValidation(await create(tenant, webhook({ method: 'GET' })), [
      {
        path: 'config.webhook.method',
        message: 'Invalid option: expected one of "POST"|"PUT"|"PATCH"',
      },
    ])
  })

  it('Should require a secret of whsec_ and at least 24 base64 bytes', async () => {
    const tenant = await createTenant()
    expectValidation(await create(tenant, webhook({ secret: 'whsec_short' })), [
      {
        path: 'config.webhook.secret',
        message: 'must be "whsec_" followed by the base64 of at least 24 bytes',
      },
    ])
  })

  it('Should refuse reserved headers and a Content-Type other than application/json', async () => {
    const tenant = await createTenant()
    const response = await create(
      tenant,
      webhook({
        headers: {
          'webhook-signature': 'v1,forged',
          Host: 'internal.example',
          'Content-Length': '1',
          'Content-Type': 'text/plain',
          'X-Fine': 'yes',
        },
      }),
    )
    expectValidation(response, [
      {
        path: 'config.webhook.headers.webhook-signature',
        message: 'is reserved: webhook-* headers carry the Standard Webhooks signature',
      },
      { path: 'config.webhook.headers.Host', message: 'is reserved: the service sets it' },
      {
        path: 'config.webhook.headers.Content-Length',
        message: 'is reserved: the service sets it',
      },
      {
        path: 'config.webhook.headers.Content-Type',
        message: 'must be application/json (the body is always JSON)',
      },
    ])
  })

  it('Should refuse CR or LF in a header value and an invalid header name', async () => {
    const tenant = await createTenant()
    expectValidation(
      await create(tenant, webhook({ headers: { 'X-Evil': 'a\r\nX-Injected: 1' } })),
      [{ path: 'config.webhook.headers.X-Evil', message: 'must not contain CR, LF or NUL' }],
    )
    expectValidation(await create(tenant, webhook({ headers: { 'Bad Name': 'x' } })), [
      { path: 'config.webhook.headers.Bad Name', message: 'must be a valid header name' },
    ])
  })

  it('Should refuse a private address, naming config.webhook.url and why', async () => {
    const tenant = await createTenant()
    expectValidation(await create(tenant, webhook({ url: 'https://0x0a000001/h' })), [
      {
        path: 'config.webhook.url',
        message:
          'must not point at a private address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) (10.0.0.1)',
      },
    ])
    expectValidation(await create(tenant, webhook({ url: 'https://user:pw@example.com/h' })), [
      { path: 'config.webhook.url', message: 'must not contain credentials (user:password@)' },
    ])
  })

  it('Should refuse every hostile URL of the outside reliability check with a 400', async () => {
    const tenant = await createTenant()
    const urls = [
      'https://169.254.169.254/latest/meta-data',
      'https://10.0.0.8/h',
      'https://192.168.1.1/h',
      'https://172.16.5.4/h',
      'https://[::ffff:10.0.0.1]/h',
      'https://[::ffff:a9fe:a9fe]/h',
      'https://0x0a000001/h',
      'https://167772161/h',
      'https://012.0.0.1/h',
      'https://100.64.0.1/h',
      'https://metadata.google.internal/h',
      'https://user:pw@example.com/h',
      'ftp://example.com/h',
      'https://[fd00::1]/h',
      'https://[fe80::1]/h',
    ]
    for (const [index, url] of urls.entries()) {
      const response = await create(tenant, webhook({ url }, { label: `t${index}` }))
      expect(response.status, url).toBe(400)
      expect(
        response.json.error.details.issues.map((i: Issue) => i.path),
        url,
      ).toEqual(['config.webhook.url'])
    }
    const listed = await call('/v1/destinations', { token: tenant.apiKey })
    expect(listed.json.destinations).toEqual([])
  })

  it('Should refuse a masked value given as a secret on create', async () => {
    const tenant = await createTenant()
    expectValidation(await create(tenant, webhook({ headers: { 'X-Api-Key': '****abcd' } })), [
      {
        path: 'config.webhook.headers.X-Api-Key',
        message: 'is a masked value; send the secret itself',
      },
    ])
  })
})

describe('POST /v1/destinations: storage', () => {
  it('Should refuse path templates with "..", empty segments, backslashes or unknown placeholders', async () => {
    const tenant = await createTenant()
    const cases: Array<[string, string]> = [
      ['audit/../other', 'must not contain ".."'],
      ['audit//{year}', 'must not contain empty or "." segments'],
      ['audit\\{year}', 'must not contain backslashes'],
      [
        'audit/{patientId}',
        'has an unknown placeholder {patientId}; use {organizationId} {year} {month} {day} {hour} {type} {deliveryId}',
      ],
      ['audit/{year', 'has an unmatched brace'],
      ['audit/ spaces', "may contain only letters, digits, placeholders, / and - _ . ! * ' ( ) ="],
      ['///', 'must name at least one folder'],
    ]
    for (const [path, message] of cases) {
      expectValidation(await create(tenant, s3({}, { path })), [
        { path: 'config.storage.path', message },
      ])
    }
  })

  it('Should require access keys in pairs and kmsKeyId only with KMS encryption', async () => {
    const tenant = await createTenant()
    expectValidation(await create(tenant, s3({ secretAccessKey: undefined })), [
      { path: 'config.storage.config.secretAccessKey', message: 'is required with accessKeyId' },
    ])
    expectValidation(
      await create(tenant, s3({ kmsKeyId: 'key-1', serverSideEncryption: 'AES256' })),
      [
        {
          path: 'config.storage.config.kmsKeyId',
          message: 'needs serverSideEncryption "aws:kms" or "aws:kms:dsse"',
        },
      ],
    )
  })

  it('Should refuse an S3 bucket without keys that the operator has not shared with the organization', async () => {
    const tenant = await createTenant()
    const response = await create(
      tenant,
      s3({ accessKeyId: undefined, secretAccessKey: undefined }),
    )
    expectValidation(response, [
      {
        path: 'config.storage.config.accessKeyId',
        message:
          'is required: bucket "audit-archive" is not one the operator allows this organization to use with the service\'s own credentials',
      },
    ])
  })

  it('Should refuse an S3 endpoint at a private address', async () => {
    const tenant = await createTenant()
    expectValidation(await create(tenant, s3({ endpoint: 'https://[::ffff:a9fe:a9fe]' })), [
      {
        path: 'config.storage.config.endpoint',
        message:
          'must not point at an IPv6 form of 169.254.169.254, the cloud metadata address 169.254.169.254 ([::ffff:a9fe:a9fe])',
      },
    ])
  })

  it('Should refuse settings r2 does not have and an invalid bucket name', async () => {
    const tenant = await createTenant()
    expectValidation(
      await create(tenant, {
        label: 'R2',
        type: 'storage',
        config: { storage: { provider: 'r2', config: { bucket: 'x' } } },
      }),
      [{ path: 'config.storage.config', message: 'Unrecognized key: "bucket"' }],
    )
    expectValidation(await create(tenant, s3({ bucket: 'Not_A_Bucket' })), [
      { path: 'config.storage.config.bucket', message: 'must be a valid S3 bucket name' },
    ])
  })
})

describe('POST /v1/destinations: email', () => {
  it('Should require an API key for sendgrid, resend and postmark, and refuse one elsewhere', async () => {
    const tenant = await createTenant()
    expectValidation(await create(tenant, email({ service: 'resend' })), [
      { path: 'config.email.apiKey', message: 'is required for the resend service' },
    ])
    expectValidation(await create(tenant, email({ service: 'ses', apiKey: 'abc' })), [
      { path: 'config.email.apiKey', message: 'does not apply to the ses service' },
    ])
  })

  it('Should refuse provider settings that do not apply to the service', async () => {
    const tenant = await createTenant()
    expectValidation(
      await create(
        tenant,
        email({ service: 'ses', config: { host: 'smtp.example.com', port: 465 } }),
      ),
      [
        { path: 'config.email.config.host', message: 'does not apply to the ses service' },
        { path: 'config.email.config.port', message: 'does not apply to the ses service' },
      ],
    )
  })

  it('Should require an SMTP host, and refuse one at a private address', async () => {
    const tenant = await createTenant()
    expectValidation(await create(tenant, email({ service: 'smtp' })), [
      { path: 'config.email.config.host', message: 'is required for the smtp service' },
    ])
    expectValidation(
      await create(tenant, email({ service: 'smtp', config: { host: '192.168.0.25', port: 465 } })),
      [
        {
          path: 'config.email.config.host',
          message:
            'must not point at a private address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) (192.168.0.25)',
        },
      ],
    )
  })

  it('Should refuse CR or LF in the subject and more than 50 recipients', async () => {
    const tenant = await createTenant()
    expectValidation(
      await create(tenant, email({ service: 'ses', subject: 'Hi\r\nBcc: evil@example.com' })),
      [{ path: 'config.email.subject', message: 'must not contain CR or LF' }],
    )
    const recipients = Array.from({ length: 51 }, (_, i) => `r${i}@hospital.com`)
    expectValidation(await create(tenant, email({ service: 'ses', recipients })), [
      { path: 'config.email.recipients', message: 'Too big: expected array to have <=50 items' },
    ])
  })

  it('Should refuse CR or LF in the SMTP user name', async () => {
    const tenant = await createTenant()
    const config = { host: 'smtp.example.com', username: 'audit\r\nRSET', password: 'x' }
    expectValidation(await create(tenant, email({ service: 'smtp', config })), [
      { path: 'config.email.config.username', message: 'must not contain CR or LF' },
    ])
  })

  it('Should refuse an encryption key that is not 32 base64 bytes', async () => {
    const tenant = await createTenant()
    expectValidation(
      await create(tenant, email({ service: 'ses', encryption: { enabled: true, key: 'short' } })),
      [
        {
          path: 'config.email.encryption.key',
          message: 'must be the base64 of 32 bytes (an AES-256 key)',
        },
      ],
    )
  })
})

describe('POST /v1/destinations: download', () => {
  it('Should bound the link lifetime to 7 days', async () => {
    const tenant = await createTenant()
    const response = await create(tenant, {
      label: 'Links',
      type: 'download',
      config: { download: { expiresIn: 604_801 } },
    })
    expectValidation(response, [
      { path: 'config.download.expiresIn', message: 'Too big: expected number to be <=604800' },
    ])
  })

  it('Should answer 422 destination_not_found when the notify destination is missing, foreign or not e-mail or webhook', async () => {
    const tenant = await createTenant()
    const other = await createTenant()
    const foreign = await create(other, webhook({}, { label: 'Foreign hook' }))
    const bucket = await create(tenant, {
      label: 'R2',
      type: 'storage',
      config: { storage: { provider: 'r2' } },
    })
    const cases: Array<[string, string]> = [
      ['dst_aaaaaaaaaaaaaaaaaaaa', 'destination "dst_aaaaaaaaaaaaaaaaaaaa" does not exist'],
      [foreign.json.id, `destination "${foreign.json.id}" does not exist`],
      [
        bucket.json.id,
        `destination "${bucket.json.id}" is a storage destination; links can only be sent through an email or webhook destination`,
      ],
    ]
    for (const [notifyDestinationId, message] of cases) {
      const response = await create(tenant, {
        label: 'Links',
        type: 'download',
        config: { download: { notifyDestinationId } },
      })
      expect(response.status).toBe(422)
      expect(response.json).toEqual({
        error: {
          code: 'destination_not_found',
          message: `config.download.notifyDestinationId: ${message}`,
          details: { issues: [{ path: 'config.download.notifyDestinationId', message }] },
          requestId: expect.any(String),
        },
      })
    }
  })
})

describe('GET /v1/destinations: query', () => {
  it('Should refuse an unknown type filter, a bad flag and a forged cursor', async () => {
    const tenant = await createTenant()
    expectValidation(await call('/v1/destinations?type=fax', { token: tenant.apiKey }), [
      {
        path: 'query.type',
        message: 'Invalid option: expected one of "webhook"|"storage"|"email"|"download"',
      },
    ])
    expectValidation(await call('/v1/destinations?disabled=yes', { token: tenant.apiKey }), [
      { path: 'query.disabled', message: 'Invalid option: expected one of "true"|"false"' },
    ])
    expectValidation(await call('/v1/destinations?limit=0', { token: tenant.apiKey }), [
      { path: 'query.limit', message: 'Too small: expected number to be >=1' },
    ])
    expectValidation(await call('/v1/destinations?cursor=forged', { token: tenant.apiKey }), [
      { path: 'query.cursor', message: 'is not a cursor this service issued' },
    ])
  })
})

describe('POST /v1/destinations: e-mail templates', () => {
  it('Should refuse sections nested in sections, and templates that do not parse', async () => {
    const tenant = await createTenant()
    const base = {
      service: 'smtp',
      config: { host: '127.0.0.1', port: 2525, secure: 'none' },
      from: 'a@hospital.com',
      recipients: ['b@hospital.com'],
    }
    const nested = await call('/v1/destinations', {
      token: tenant.apiKey,
      body: {
        label: 'Bomb',
        type: 'email',
        config: {
          email: { ...base, subject: 'ok', bodyTemplate: '{{#a}}{{#a}}{{#a}}x{{/a}}{{/a}}{{/a}}' },
        },
      },
    })
    expect(nested.status).toBe(400)
    expect(nested.json.error.details.issues).toEqual([
      {
        path: 'config.email.bodyTemplate',
        message: 'must not nest sections ({{#…}} or {{^…}}) inside one another',
      },
    ])
    const broken = await call('/v1/destinations', {
      token: tenant.apiKey,
      body: {
        label: 'Broken',
        type: 'email',
        config: { email: { ...base, subject: 'Event {{#open}}' } },
      },
    })
    expect(broken.status).toBe(400)
    expect(broken.json.error.details.issues[0].path).toBe('config.email.subject')
    expect(broken.json.error.details.issues[0].message).toMatch(/^is not a valid template: /)
    const fine = await call('/v1/destinations', {
      token: tenant.apiKey,
      body: {
        label: 'Fine',
        type: 'email',
        config: {
          email: {
            ...base,
            subject: 'Event {{eventType}}',
            bodyTemplate: '{{#items}}- {{name}}\n{{/items}}',
          },
        },
      },
    })
    expect(fine.status).toBe(201)
  })
})
