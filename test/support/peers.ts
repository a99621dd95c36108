/**
 * Test-side access to the real peers started by the global setup: their addresses (via
 * `inject`) and their control routes, called with fetch from inside workerd.
 */
import { inject } from 'vitest'
import type { Fault, RecordedRequest } from '../peers/http-peer.ts'
import type { PeerAddresses } from '../peers/index.ts'
import type { CapturedMail } from '../peers/smtp.ts'

export type { CapturedMail, Fault, RecordedRequest }

export function peers(): PeerAddresses {
  return inject('peers')
}

async function control(url: string, init?: RequestInit): Promise<unknown> {
  const response = await fetch(url, init)
  const text = await response.text()
  if (!response.ok) throw new Error(`peer control ${url}: ${response.status} ${text}`)
  return text ? JSON.parse(text) : null
}

/** A path no other test uses, so parallel test files never read each other's requests. */
export function uniquePath(prefix = '/hooks'): string {
  return `${prefix}/${crypto.randomUUID()}`
}

/** Requests an HTTP peer recorded at exactly `path` (or under `prefix`). */
export async function recorded(
  baseUrl: string,
  where: { path: string } | { prefix: string },
): Promise<RecordedRequest[]> {
  const query =
    'path' in where
      ? `path=${encodeURIComponent(where.path)}`
      : `prefix=${encodeURIComponent(where.prefix)}`
  const body = (await control(`${baseUrl}/__peer/requests?${query}`)) as {
    requests: RecordedRequest[]
  }
  return body.requests
}

/** Queues a misbehaviour at an HTTP peer. */
export async function addFault(
  baseUrl: string,
  where: { path: string } | { prefix: string },
  fault: Fault,
): Promise<void> {
  await control(`${baseUrl}/__peer/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...where, fault }),
  })
}

/** Tells the webhook receiver which secrets verify requests to `path`. */
export async function registerWebhook(path: string, secrets: string[]): Promise<void> {
  await control(`${peers().webhook.url}/__peer/endpoints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ path, secrets }),
  })
}

/** The objects the S3 peer holds under a prefix, with exact keys and bodies. */
export async function s3Objects(
  bucket: string,
  prefix: string,
): Promise<
  Array<{ key: string; contentType: string; metadata: Record<string, string>; body: string }>
> {
  const query = `bucket=${encodeURIComponent(bucket)}&prefix=${encodeURIComponent(prefix)}`
  const body = (await control(`${peers().s3.url}/__peer/objects?${query}`)) as {
    objects: Array<{
      key: string
      contentType: string
      metadata: Record<string, string>
      body: string
    }>
  }
  return body.objects
}

/** Mails the SMTP peer accepted for a recipient. */
export async function smtpMessages(recipient: string): Promise<CapturedMail[]> {
  const url = `${peers().smtp.controlUrl}/__peer/messages?to=${encodeURIComponent(recipient)}`
  return ((await control(url)) as { messages: CapturedMail[] }).messages
}

/** AUTH attempts the SMTP peer saw for a user name. */
export async function smtpLogins(
  user: string,
): Promise<Array<{ user: string; ok: boolean; method: string }>> {
  const url = `${peers().smtp.controlUrl}/__peer/logins?user=${encodeURIComponent(user)}`
  return ((await control(url)) as { logins: Array<{ user: string; ok: boolean; method: string }> })
    .logins
}

/** Makes the SMTP peer refuse, drop or stall the next message to a recipient. */
export async function smtpFault(
  recipient: string,
  fault:
    | { mode: 'status'; status: number; message?: string; times?: number }
    | { mode: 'drop' }
    | { mode: 'hang' },
): Promise<void> {
  await control(`${peers().smtp.controlUrl}/__peer/smtp-faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ recipient, fault }),
  })
}

/** A recipient address no other test uses. */
export function uniqueRecipient(name = 'officer'): string {
  return `${name}-${crypto.randomUUID().slice(0, 8)}@hospital.test`
}
