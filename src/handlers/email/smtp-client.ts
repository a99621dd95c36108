/**
 * A small SMTP client on Workers TCP sockets (RFC 5321): greeting, EHLO (HELO as a
 * fallback), STARTTLS when asked, AUTH PLAIN or LOGIN, MAIL/RCPT/DATA and QUIT. Every wait
 * for the server has a deadline, and a connection the server closes ends the session
 * with an error at once.
 *
 * Why not worker-mailer's transport: its reply reader loops without awaiting anything
 * once the server closes the socket, which starves the timers and hangs the isolate
 * (reproduced against the SMTP test peer dropping the connection at DATA). Its MIME
 * builder (`Email`) is fine and is what `smtp.ts` uses to build the message.
 */
import { connect } from 'cloudflare:sockets'

export type SmtpSecurity = 'tls' | 'starttls' | 'none'

export interface SmtpSettings {
  host: string
  port: number
  security: SmtpSecurity
  username?: string
  password?: string
  /** Deadline for connecting and for each reply. */
  timeoutMs: number
}

/** A failure with what kind it was and, for a reply, the SMTP code. */
export class SmtpError extends Error {
  readonly kind: 'reply' | 'timeout' | 'closed' | 'network' | 'unsupported'
  readonly code: number | null

  constructor(kind: SmtpError['kind'], message: string, code: number | null = null) {
    super(message)
    this.name = 'SmtpError'
    this.kind = kind
    this.code = code
  }
}

interface Reply {
  code: number
  lines: string[]
}

const encoder = new TextEncoder()

export class SmtpSession {
  private socket: Socket
  private reader: ReadableStreamDefaultReader<Uint8Array>
  private writer: WritableStreamDefaultWriter<Uint8Array>
  private buffer = ''
  private readonly decoder = new TextDecoder()
  private capabilities: string[] = []

  private constructor(
    socket: Socket,
    private readonly settings: SmtpSettings,
  ) {
    this.socket = socket
    this.reader = socket.readable.getReader()
    this.writer = socket.writable.getWriter()
  }

  /** Connects, reads the greeting, says EHLO, upgrades to TLS if asked, and logs in. */
  static async open(settings: SmtpSettings): Promise<SmtpSession> {
    let socket: Socket
    try {
      socket = connect(
        { hostname: settings.host, port: settings.port },
        {
          secureTransport:
            settings.security === 'tls'
              ? 'on'
              : settings.security === 'starttls'
                ? 'starttls'
                : 'off',
          allowHalfOpen: false,
        },
      )
    } catch (error) {
      throw new SmtpError('network', `cannot connect: ${(error as Error).message}`)
    }
    const session = new SmtpSession(socket, settings)
    try {
      await session.withDeadline(socket.opened, 'connecting')
      await session.expect(await session.reply('greeting'), 220, 'greeting')
      await session.hello()
      if (settings.security === 'starttls') await session.startTls()
      if (settings.username !== undefined) await session.login()
      return session
    } catch (error) {
      session.abort()
      throw error instanceof SmtpError ? error : new SmtpError('network', (error as Error).message)
    }
  }

  /** Sends one message; `data` is the full DATA content, dot-stuffed and ending in CRLF.CRLF. */
  async send(from: string, recipients: readonly string[], data: string): Promise<void> {
    await this.command(`MAIL FROM:<${from}>`, 250)
    for (const recipient of recipients) await this.command(`RCPT TO:<${recipient}>`, [250, 251])
    await this.command('DATA', 354)
    await this.write(data)
    await this.expect(await this.reply('message'), 250, 'message')
  }

  /** Says QUIT and closes; never throws. */
  async quit(): Promise<void> {
    try {
      await this.write('QUIT\r\n')
      await this.reply('QUIT')
    } catch {
      // The server may hang up first; the session is over either way.
    }
    this.abort()
  }

  /** Closes the connection without a goodbye (after a failure). */
  abort(): void {
    this.socket.close().catch(() => undefined)
  }

  private async hello(): Promise<void> {
    await this.write('EHLO audit-delivery.local\r\n')
    const reply = await this.reply('EHLO')
    if (reply.code === 250) {
      this.capabilities = reply.lines.slice(1).map((line) => line.toUpperCase())
      return
    }
    await this.command('HELO audit-delivery.local', 250)
    this.capabilities = []
  }

  private async startTls(): Promise<void> {
    if (!this.capabilities.includes('STARTTLS'))
      throw new SmtpError('unsupported', 'the server does not offer STARTTLS')
    await this.command('STARTTLS', 220)
    this.reader.releaseLock()
    this.writer.releaseLock()
    this.socket = this.socket.startTls()
    this.reader = this.socket.readable.getReader()
    this.writer = this.socket.writable.getWriter()
    await this.hello()
  }

  private async login(): Promise<void> {
    const auth = this.capabilities.find((line) => line.startsWith('AUTH'))
    const methods = auth ? auth.replace(/^AUTH[ =]/, '').split(/\s+/) : []
    const username = this.settings.username ?? ''
    const password = this.settings.password ?? ''
    if (methods.includes('PLAIN')) {
      await this.command(`AUTH PLAIN ${base64(`\0${username}\0${password}`)}`, 235, 'AUTH PLAIN')
    } else if (methods.includes('LOGIN')) {
      await this.command('AUTH LOGIN', 334)
      await this.command(base64(username), 334, 'AUTH LOGIN user name')
      await this.command(base64(password), 235, 'AUTH LOGIN password')
    } else {
      throw new SmtpError('unsupported', 'the server offers neither AUTH PLAIN nor AUTH LOGIN')
    }
  }

  /** Sends a line and checks the reply code; `label` keeps secrets out of messages. */
  private async command(line: string, expected: number | number[], label?: string): Promise<Reply> {
    await this.write(`${line}\r\n`)
    const name = label ?? line
    return this.expect(await this.reply(name), expected, name)
  }

  private expect(reply: Reply, expected: number | number[], step: string): Reply {
    const accepted = Array.isArray(expected) ? expected : [expected]
    if (!accepted.includes(reply.code)) {
      const text = reply.lines.join(' ').slice(0, 200)
      throw new SmtpError('reply', `${step} answered ${reply.code} ${text}`.trim(), reply.code)
    }
    return reply
  }

  private async write(text: string): Promise<void> {
    try {
      await this.withDeadline(this.writer.write(encoder.encode(text)), 'writing')
    } catch (error) {
      if (error instanceof SmtpError) throw error
      throw new SmtpError(
        'closed',
        `the connection closed while writing: ${(error as Error).message}`,
      )
    }
  }

  /** Reads one reply, single- or multi-line (`250-…` continues, `250 …` ends). */
  private async reply(step: string): Promise<Reply> {
    const lines: string[] = []
    for (;;) {
      const end = this.buffer.indexOf('\r\n')
      if (end === -1) {
        const chunk = await this.withDeadline(this.reader.read(), `waiting for the ${step} reply`)
        if (chunk.done)
          throw new SmtpError('closed', `the server closed the connection during ${step}`)
        this.buffer += this.decoder.decode(chunk.value, { stream: true })
        continue
      }
      const line = this.buffer.slice(0, end)
      this.buffer = this.buffer.slice(end + 2)
      const match = /^(\d{3})([ -]?)(.*)$/.exec(line)
      if (!match)
        throw new SmtpError('reply', `unreadable reply during ${step}: ${line.slice(0, 100)}`)
      lines.push(match[3] ?? '')
      if (match[2] !== '-') return { code: Number(match[1]), lines }
    }
  }

  private async withDeadline<T>(promise: Promise<T>, doing: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SmtpError(
              'timeout',
              `no answer within ${this.settings.timeoutMs} ms while ${doing}`,
            ),
          ),
        this.settings.timeoutMs,
      )
    })
    try {
      return await Promise.race([promise, deadline])
    } catch (error) {
      if (error instanceof SmtpError) throw error
      throw new SmtpError('network', `${doing}: ${(error as Error).message}`)
    } finally {
      clearTimeout(timer)
    }
  }
}

function base64(text: string): string {
  let binary = ''
  for (const byte of encoder.encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary)
}
