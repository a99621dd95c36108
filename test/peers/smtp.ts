/**
 * An SMTP server for tests (`smtp-server`, parsed with `mailparser`) that requires AUTH
 * (PLAIN or LOGIN, any user name with the peer's password) and keeps every message it
 * accepts. Plain TCP only: tests run under the loopback development flag.
 *
 * Its HTTP control port (routes of `http-peer.ts`, plus):
 * - `GET /__peer/messages?to=<address>`: accepted messages with that envelope recipient:
 *   envelope, raw text, header lines, subject, text, html and attachments (base64).
 * - `GET /__peer/logins?user=<name>`: AUTH attempts by that user and whether they passed.
 * - `POST /__peer/smtp-faults` `{ recipient, fault }`: the next RCPT TO for that recipient
 *   answers `{ mode: 'status', status, times? }`, or the connection is dropped at DATA
 *   (`{ mode: 'drop' }`), or DATA is never answered (`{ mode: 'hang' }`).
 */
import type { Socket } from 'node:net'
import { simpleParser } from 'mailparser'
import { SMTPServer, type SMTPServerSession } from 'smtp-server'
import { type HttpPeer, json, startHttpPeer } from './http-peer.ts'

export const SMTP_PASSWORD = 'peer-password'

export interface CapturedMail {
  envelope: { mailFrom: string; rcptTo: string[] }
  user: string | null
  raw: string
  headerLines: Array<{ key: string; line: string }>
  messageId: string | null
  subject: string | null
  text: string | null
  html: string | null
  attachments: Array<{ filename: string | null; contentType: string; contentBase64: string }>
  receivedAt: string
}

type SmtpFault =
  | { mode: 'status'; status: number; message?: string; times?: number }
  | { mode: 'drop'; times?: number }
  | { mode: 'hang'; times?: number }

export interface SmtpPeer {
  host: string
  port: number
  password: string
  /** The HTTP control peer. */
  control: HttpPeer
  messages: CapturedMail[]
  close(): Promise<void>
}

function smtpError(status: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: status })
}

export async function startSmtpPeer(): Promise<SmtpPeer> {
  const messages: CapturedMail[] = []
  const logins: Array<{ user: string; ok: boolean; method: string; at: string }> = []
  const faults = new Map<string, { fault: SmtpFault; remaining: number }>()
  const sockets = new Map<string, Socket>()

  const takeFault = (recipients: string[], mode: SmtpFault['mode']): SmtpFault | null => {
    for (const recipient of recipients) {
      const queued = faults.get(recipient.toLowerCase())
      if (!queued || queued.fault.mode !== mode) continue
      queued.remaining -= 1
      if (queued.remaining <= 0) faults.delete(recipient.toLowerCase())
      return queued.fault
    }
    return null
  }

  const server = new SMTPServer({
    secure: false,
    hideSTARTTLS: true,
    disabledCommands: ['STARTTLS'],
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: true,
    logger: false,
    size: 32 * 1024 * 1024,
    onConnect(session, callback) {
      callback()
      // Keep the socket so a fault can drop this very connection.
      const connections = (
        server as unknown as { connections: Set<{ id: string; _socket: Socket }> }
      ).connections
      for (const connection of connections)
        if (connection.id === session.id) sockets.set(session.id, connection._socket)
    },
    onClose(session) {
      sockets.delete(session.id)
    },
    onAuth(auth, _session, callback) {
      const ok = auth.password === SMTP_PASSWORD
      logins.push({
        user: auth.username ?? '',
        ok,
        method: auth.method,
        at: new Date().toISOString(),
      })
      if (!ok) return callback(smtpError(535, 'Authentication credentials invalid'))
      callback(null, { user: auth.username })
    },
    onRcptTo(address, _session, callback) {
      const fault = takeFault([address.address], 'status')
      if (fault?.mode === 'status')
        return callback(smtpError(fault.status, fault.message ?? 'Recipient refused by test fault'))
      callback()
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', async () => {
        const recipients = session.envelope.rcptTo.map((rcpt) => rcpt.address)
        if (takeFault(recipients, 'drop')) {
          sockets.get(session.id)?.destroy()
          return
        }
        if (takeFault(recipients, 'hang')) return
        try {
          const raw = Buffer.concat(chunks)
          messages.push(await capture(raw, session))
          callback()
        } catch (error) {
          callback(smtpError(451, (error as Error).message))
        }
      })
    },
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.server.address() as { port: number }).port

  const control = await startHttpPeer(() => json(404, { error: 'control routes only' }), {
    control: (request) => {
      const { url } = request
      if (url.pathname === '/__peer/messages') {
        const to = (url.searchParams.get('to') ?? '').toLowerCase()
        return json(200, {
          messages: messages.filter((mail) =>
            mail.envelope.rcptTo.some((address) => address.toLowerCase() === to),
          ),
        })
      }
      if (url.pathname === '/__peer/logins') {
        const user = url.searchParams.get('user')
        return json(200, { logins: logins.filter((login) => login.user === user) })
      }
      if (url.pathname === '/__peer/smtp-faults' && request.method === 'POST') {
        const input = JSON.parse(request.body.toString('utf8')) as {
          recipient: string
          fault: SmtpFault
        }
        faults.set(input.recipient.toLowerCase(), {
          fault: input.fault,
          remaining: input.fault.times ?? 1,
        })
        return { status: 204 }
      }
      return null
    },
  })

  return {
    host: '127.0.0.1',
    port,
    password: SMTP_PASSWORD,
    control,
    messages,
    close: async () => {
      for (const socket of sockets.values()) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await control.close()
    },
  }
}

async function capture(raw: Buffer, session: SMTPServerSession): Promise<CapturedMail> {
  const parsed = await simpleParser(raw)
  return {
    envelope: {
      mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
      rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
    },
    user: typeof session.user === 'string' ? session.user : null,
    raw: raw.toString('utf8'),
    headerLines: parsed.headerLines.map((header) => ({ key: header.key, line: header.line })),
    messageId: parsed.messageId ?? null,
    subject: parsed.subject ?? null,
    text: parsed.text ?? null,
    html: typeof parsed.html === 'string' ? parsed.html : null,
    attachments: parsed.attachments.map((attachment) => ({
      filename: attachment.filename ?? null,
      contentType: attachment.contentType,
      contentBase64: attachment.content.toString('base64'),
    })),
    receivedAt: new Date().toISOString(),
  }
}
