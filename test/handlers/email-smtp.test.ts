import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { checkEmailProvider, deliverEmail } from '../../src/handlers/email/deliver'
import { decryptAttachment } from '../../src/handlers/email/encryption'
import { emailDestination, makeJob, randomAesKey } from '../support/jobs'
import { peers, smtpFault, smtpLogins, smtpMessages, uniqueRecipient } from '../support/peers'

type SmtpDestination = ReturnType<typeof emailDestination>

function smtpDestination(
  recipient: string,
  settings: Record<string, unknown> = {},
  email: Partial<SmtpDestination['config']> = {},
): SmtpDestination {
  const { smtp } = peers()
  return emailDestination({
    service: 'smtp',
    config: {
      host: smtp.host,
      port: smtp.port,
      secure: 'none',
      username: 'audit-sender',
      password: smtp.password,
      ...settings,
    },
    recipients: [recipient],
    ...email,
  })
}

const decodeBase64 = (text: string) =>
  new TextDecoder().decode(Uint8Array.from(atob(text), (char) => char.charCodeAt(0)))

describe('SMTP e-mail', () => {
  it('Should send the rendered mail with the envelope attached and a stable Message-ID', async () => {
    const recipient = uniqueRecipient()
    const destination = smtpDestination(
      recipient,
      {},
      {
        bodyTemplate: 'Patient {{patientId}} was accessed by {{userId}} ({{eventType}}).',
        htmlTemplate: '<p>Patient <b>{{patientId}}</b></p>',
      },
    )
    const job = makeJob(destination.id)

    const outcome = await deliverEmail(job, destination, env)

    const messageId = `<${job.messageId}@hospital.test>`
    expect(outcome).toEqual({ kind: 'delivered', reference: { messageId } })
    const [mail, ...others] = await smtpMessages(recipient)
    expect(others).toEqual([])
    expect(mail?.envelope).toEqual({ mailFrom: 'hipaa-audit@hospital.test', rcptTo: [recipient] })
    expect(mail?.user).toBe('audit-sender')
    expect(mail?.subject).toBe('[HIPAA] Audit Event Notification - phi-access')
    expect(mail?.messageId).toBe(messageId)
    expect(mail?.text?.trim()).toBe('Patient P-1001 was accessed by dr.smith (phi-access).')
    expect(mail?.html?.trim()).toBe('<p>Patient <b>P-1001</b></p>')
    expect(mail?.headerLines).toContainEqual({
      key: 'x-audit-message-id',
      line: `X-Audit-Message-Id: ${job.messageId}`,
    })
    expect(mail?.attachments).toHaveLength(1)
    expect(mail?.attachments[0]?.filename).toBe(`${job.deliveryId}.json`)
    expect(mail?.attachments[0]?.contentType).toBe('application/json')
    expect(decodeBase64(mail?.attachments[0]?.contentBase64 ?? '')).toBe(job.envelope)
  })

  it('Should keep CR and LF from payload values out of every header', async () => {
    const recipient = uniqueRecipient()
    const destination = smtpDestination(
      recipient,
      {},
      {
        subject: 'Access by {{userId}}',
        htmlTemplate: '<p>{{userId}} {{{userId}}}</p>',
      },
    )
    const injected = 'mallory\r\nBcc: thief@evil.test\r\nX-Injected: yes'
    const job = makeJob(destination.id, { data: JSON.stringify({ userId: injected }) })

    expect((await deliverEmail(job, destination, env)).kind).toBe('delivered')

    const [mail] = await smtpMessages(recipient)
    expect(mail?.envelope.rcptTo).toEqual([recipient])
    expect(mail?.subject).toBe('Access by mallory Bcc: thief@evil.test X-Injected: yes')
    const headerKeys = mail?.headerLines.map((header) => header.key) ?? []
    expect(headerKeys).not.toContain('bcc')
    expect(headerKeys).not.toContain('x-injected')
    expect(headerKeys.filter((key) => key === 'subject')).toHaveLength(1)
    expect(await smtpMessages('thief@evil.test')).toEqual([])
  })

  it('Should escape payload values in the HTML body, triple mustaches included', async () => {
    const recipient = uniqueRecipient()
    const destination = smtpDestination(
      recipient,
      {},
      {
        htmlTemplate: '<p>{{userId}}</p><p>{{{userId}}}</p>',
      },
    )
    const job = makeJob(destination.id, {
      data: JSON.stringify({ userId: '<script>alert("x")</script>&' }),
    })

    await deliverEmail(job, destination, env)

    const [mail] = await smtpMessages(recipient)
    const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;&#x2F;script&gt;&amp;'
    expect(mail?.html?.trim()).toBe(`<p>${escaped}</p><p>${escaped}</p>`)
  })

  it('Should send the payload only as the encrypted attachment when encryption is on', async () => {
    const recipient = uniqueRecipient()
    const key = randomAesKey()
    const destination = smtpDestination(
      recipient,
      {},
      {
        bodyTemplate: 'Event {{eventType}}: see the encrypted attachment.',
        encryption: { enabled: true, algorithm: 'AES-256-GCM', key },
      },
    )
    const job = makeJob(destination.id)

    await deliverEmail(job, destination, env)

    const [mail] = await smtpMessages(recipient)
    expect(mail?.text?.trim()).toBe('Event phi-access: see the encrypted attachment.')
    expect(mail?.raw).not.toContain('P-1001')
    expect(mail?.raw).not.toContain(btoa(job.envelope).slice(0, 40))
    const attachment = mail?.attachments[0]
    expect(attachment?.filename).toBe(`${job.deliveryId}.encrypted.json`)
    const sealed = decodeBase64(attachment?.contentBase64 ?? '')
    expect(JSON.parse(sealed)).toMatchObject({
      format: 'audit-delivery/encrypted-attachment',
      version: 1,
      algorithm: 'AES-256-GCM',
      aad: `hospital-001/${job.deliveryId}/${destination.id}`,
    })
    expect(await decryptAttachment(key, sealed)).toBe(job.envelope)
    await expect(decryptAttachment(randomAesKey(), sealed)).rejects.toThrow()
  })

  it('Should give up when the server refuses the login', async () => {
    const destination = smtpDestination(uniqueRecipient(), { password: 'wrong' })
    expect(await deliverEmail(makeJob(destination.id), destination, env)).toEqual({
      kind: 'permanent',
      code: 'smtp_535',
      message: 'SMTP server: AUTH PLAIN answered 535 Authentication credentials invalid',
    })
  })

  it('Should give up on a recipient the server rejects with 5xx', async () => {
    const recipient = uniqueRecipient()
    await smtpFault(recipient, { mode: 'status', status: 550, message: 'No such user here' })
    const destination = smtpDestination(recipient)
    expect(await deliverEmail(makeJob(destination.id), destination, env)).toEqual({
      kind: 'permanent',
      code: 'smtp_550',
      message: `SMTP server: RCPT TO:<${recipient}> answered 550 No such user here`,
    })
  })

  it('Should retry a temporary 4xx refusal and deliver after it', async () => {
    const recipient = uniqueRecipient()
    await smtpFault(recipient, { mode: 'status', status: 451, message: 'Try again later' })
    const destination = smtpDestination(recipient)
    const job = makeJob(destination.id)
    expect(await deliverEmail(job, destination, env)).toEqual({
      kind: 'retryable',
      code: 'smtp_451',
      message: `SMTP server: RCPT TO:<${recipient}> answered 451 Try again later`,
    })
    expect((await deliverEmail(job, destination, env)).kind).toBe('delivered')
    expect(await smtpMessages(recipient)).toHaveLength(1)
  })

  it('Should retry when the server drops the connection during DATA', async () => {
    const recipient = uniqueRecipient()
    await smtpFault(recipient, { mode: 'drop' })
    const destination = smtpDestination(recipient)
    expect(await deliverEmail(makeJob(destination.id), destination, env)).toEqual({
      kind: 'retryable',
      code: 'network_error',
      message: 'SMTP server: the server closed the connection during message',
    })
    expect(await smtpMessages(recipient)).toEqual([])
  })

  it('Should retry when nothing listens at the address', async () => {
    const destination = smtpDestination(uniqueRecipient(), { port: 9 })
    const outcome = await deliverEmail(makeJob(destination.id), destination, env)
    expect(outcome).toMatchObject({ kind: 'retryable', code: 'network_error' })
  })

  it('Should refuse plain SMTP when the development flag is off', async () => {
    const destination = smtpDestination(uniqueRecipient())
    const outcome = await deliverEmail(makeJob(destination.id), destination, {
      ...env,
      ALLOW_LOOPBACK_DESTINATIONS: 'false',
    })
    expect(outcome).toEqual({
      kind: 'permanent',
      code: 'destination_refused',
      message:
        'SMTP host must not point at loopback (127.0.0.1); loopback is allowed only under the development flag ALLOW_LOOPBACK_DESTINATIONS',
    })
  })
})

describe('SMTP connection test', () => {
  it('Should connect, log in and quit without sending anything', async () => {
    const user = `probe-${crypto.randomUUID().slice(0, 8)}`
    const recipient = uniqueRecipient()
    const destination = smtpDestination(recipient, { username: user })
    expect(await checkEmailProvider(destination, env)).toEqual({ kind: 'delivered', reference: {} })
    expect(await smtpLogins(user)).toEqual([
      expect.objectContaining({ user, ok: true, method: 'PLAIN' }),
    ])
    expect(await smtpMessages(recipient)).toEqual([])
  })

  it('Should report refused credentials', async () => {
    const destination = smtpDestination(uniqueRecipient(), { password: 'wrong' })
    expect(await checkEmailProvider(destination, env)).toEqual({
      kind: 'permanent',
      code: 'smtp_535',
      message: 'SMTP server: AUTH PLAIN answered 535 Authentication credentials invalid',
    })
  })
})
