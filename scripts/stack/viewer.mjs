/**
 * The local stack's viewer: what the webhook inbox received (with its signature check)
 * and what the SMTP server accepted, as HTML pages that refresh themselves and as JSON.
 * It reads the peers' in-memory records, so it shows exactly what they saw.
 *
 *   GET /webhooks, /webhooks.json   requests that reached the webhook inbox, newest first
 *   GET /mail, /mail.json[?to=addr] mails the SMTP server accepted, newest first
 *
 * The pages show the newest 200; the JSON lists everything the peers kept.
 */
import { createServer } from 'node:http'

const MAX_SHOWN = 200
const MAX_BODY_CHARS = 4000

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value) {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char],
  )
}

function prettyBody(text) {
  let shown = text
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    // Not JSON: shown as received.
  }
  return shown.length > MAX_BODY_CHARS
    ? `${shown.slice(0, MAX_BODY_CHARS)}\n… (${shown.length} characters)`
    : shown
}

function signatureCell(request) {
  if (!request.check) return '<span class="muted">not checked (no secret for this path)</span>'
  return request.check.ok
    ? '<span class="ok">verified</span>'
    : `<span class="bad">${escapeHtml(request.check.reason ?? 'invalid')}</span>`
}

function page(title, nav, body) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>${escapeHtml(title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222}
nav a{margin-right:1rem}
table{border-collapse:collapse;width:100%;margin-top:1rem}
td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
pre{margin:0;white-space:pre-wrap;word-break:break-all;max-height:20rem;overflow:auto}
.ok{color:#0a7a2f;font-weight:600}.bad{color:#b00020;font-weight:600}.muted{color:#777}
</style></head><body>
<nav>${nav}</nav>
<h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`
}

const NAV = '<a href="/webhooks">Webhook inbox</a><a href="/mail">Mail</a>'

function newest(records, limit = records.length) {
  return records.slice(-limit).reverse()
}

function addressedTo(messages, recipient) {
  if (!recipient) return messages
  const wanted = recipient.toLowerCase()
  return messages.filter((mail) =>
    mail.envelope.rcptTo.some((address) => address.toLowerCase() === wanted),
  )
}

function webhooksPage(requests, inboxUrl) {
  const rows = newest(requests, MAX_SHOWN).map(
    (request) => `<tr>
<td>${escapeHtml(request.receivedAt)}</td>
<td>${escapeHtml(request.method)} ${escapeHtml(request.path)}</td>
<td>${escapeHtml(request.headers['webhook-id'] ?? '')}</td>
<td>${signatureCell(request)}</td>
<td>${escapeHtml(request.status ?? 'no answer')}</td>
<td><pre>${escapeHtml(prettyBody(request.body))}</pre></td>
</tr>`,
  )
  const intro = `<p>Deliveries sent to <code>${escapeHtml(inboxUrl)}/…</code>; ${requests.length} received. Signatures are checked with the destination's secret (Standard Webhooks); a request that fails the check is answered 401.</p>`
  const table = `<table><tr><th>Received</th><th>Request</th><th>webhook-id</th><th>Signature</th><th>Answered</th><th>Body</th></tr>${rows.join('')}</table>`
  return page('Webhook inbox', NAV, intro + (rows.length ? table : '<p>Nothing yet.</p>'))
}

function mailPage(messages, smtpAddress) {
  const rows = newest(messages, MAX_SHOWN).map(
    (mail) => `<tr>
<td>${escapeHtml(mail.receivedAt)}</td>
<td>${escapeHtml(mail.envelope.mailFrom)}</td>
<td>${escapeHtml(mail.envelope.rcptTo.join(', '))}</td>
<td>${escapeHtml(mail.subject ?? '')}</td>
<td><pre>${escapeHtml(prettyBody(mail.text ?? ''))}</pre></td>
<td>${mail.attachments.map((file) => escapeHtml(`${file.filename ?? '(unnamed)'} (${file.contentType})`)).join('<br>')}</td>
</tr>`,
  )
  const intro = `<p>Mails accepted by the SMTP server at <code>${escapeHtml(smtpAddress)}</code>; ${messages.length} received.</p>`
  const table = `<table><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th><th>Text</th><th>Attachments</th></tr>${rows.join('')}</table>`
  return page('Mail', NAV, intro + (rows.length ? table : '<p>Nothing yet.</p>'))
}

/**
 * Starts the viewer on `host:port`. `webhooks()` and `mail()` return the peers' current
 * records. Resolves with a `close` function once listening.
 */
export async function startViewer({ host, port, inboxUrl, smtpAddress, webhooks, mail }) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://viewer')
    const path = url.pathname
    const send = (status, type, body) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
      res.end(body)
    }
    const html = (body) => send(200, 'text/html; charset=utf-8', body)
    const json = (value) => send(200, 'application/json', JSON.stringify(value, null, 2))

    if (req.method !== 'GET') return send(405, 'text/plain', 'Only GET\n')
    if (path === '/') {
      res.writeHead(302, { location: '/webhooks' })
      return res.end()
    }
    if (path === '/webhooks') return html(webhooksPage(webhooks(), inboxUrl))
    if (path === '/webhooks.json') return json({ requests: newest(webhooks()) })
    if (path === '/mail') return html(mailPage(mail(), smtpAddress))
    if (path === '/mail.json')
      return json({ messages: newest(addressedTo(mail(), url.searchParams.get('to'))) })
    return send(404, 'text/plain', 'Not found: see /webhooks and /mail\n')
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  return {
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
