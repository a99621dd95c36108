/**
 * Checks of a destination that the schema cannot make alone because they depend on the
 * deployment (the development flag, the operator's shared buckets) or on other rows (the
 * destination that receives download links). Run after the schema accepted the input.
 */
import type { ServiceEnv } from '../../env'
import { allowsLoopback } from '../../env'
import { ApiError, type FieldIssue } from '../../lib/errors'
import type { CreateDestinationInput } from '../../schemas/destination'
import {
  checkDestinationHost,
  checkDestinationUrl,
  type GuardVerdict,
} from '../../security/url-guard'
import { destinationType } from './repository'
import { isObject } from './secret-fields'

const FLAG = 'ALLOW_LOOPBACK_DESTINATIONS'

/** Throws 400 listing every refused field, or 422 when the notify destination is unusable. */
export async function checkDestinationInput(
  env: ServiceEnv,
  organizationId: string,
  input: CreateDestinationInput,
): Promise<void> {
  const issues = addressAndFlagIssues(env, organizationId, input)
  if (issues.length > 0) throw validationFailure(issues)
  const notify = input.config.download?.notifyDestinationId
  if (input.type === 'download' && notify !== undefined) {
    await checkNotifyDestination(env, organizationId, notify)
  }
}

/** One 400 for several field issues, in the service's validation shape. */
export function validationFailure(issues: FieldIssue[]): ApiError {
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')
  return new ApiError('validation_error', summary, { details: { issues } })
}

function addressAndFlagIssues(
  env: ServiceEnv,
  organizationId: string,
  input: CreateDestinationInput,
): FieldIssue[] {
  const issues: FieldIssue[] = []
  const options = { allowLoopback: allowsLoopback(env) }
  const judge = (path: string, verdict: GuardVerdict) => {
    if (!verdict.ok) issues.push({ path, message: verdict.reason })
  }
  const { webhook, storage, email } = input.config

  if (input.type === 'webhook' && webhook) {
    judge('config.webhook.url', checkDestinationUrl(webhook.url, options))
  }
  if (input.type === 'storage' && storage?.provider === 's3') {
    const s3 = storage.config
    if (s3.endpoint !== undefined) {
      judge('config.storage.config.endpoint', checkDestinationUrl(s3.endpoint, options))
    }
    if (s3.accessKeyId === undefined && !sharedBuckets(env, organizationId).includes(s3.bucket)) {
      issues.push({
        path: 'config.storage.config.accessKeyId',
        message: `is required: bucket "${s3.bucket}" is not one the operator allows this organization to use with the service's own credentials`,
      })
    }
  }
  if (input.type === 'email' && email) {
    const provider = email.config
    if (provider.endpoint !== undefined) {
      if (options.allowLoopback) {
        judge('config.email.config.endpoint', checkDestinationUrl(provider.endpoint, options))
      } else {
        issues.push({
          path: 'config.email.config.endpoint',
          message: `is allowed only under the development flag ${FLAG}`,
        })
      }
    }
    if (
      email.service === 'ses' &&
      provider.accessKeyId === undefined &&
      !sharedSesSenders(env, organizationId).includes(email.from)
    ) {
      issues.push({
        path: 'config.email.config.accessKeyId',
        message: `is required: sender "${email.from}" is not one the operator allows this organization to use with the service's own credentials`,
      })
    }
    if (provider.host !== undefined) {
      judge('config.email.config.host', checkDestinationHost(provider.host, options))
    }
    if (provider.secure === 'none' && !options.allowLoopback) {
      issues.push({
        path: 'config.email.config.secure',
        message: `"none" (no TLS) is allowed only under the development flag ${FLAG}`,
      })
    }
  }
  return issues
}

/**
 * Buckets the operator lets an organization use with the Worker's own AWS credentials,
 * from `ALLOWED_SHARED_BUCKETS` (a JSON map of organization id to bucket names).
 */
export function sharedBuckets(
  env: Pick<ServiceEnv, 'ALLOWED_SHARED_BUCKETS'>,
  organizationId: string,
): string[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(env.ALLOWED_SHARED_BUCKETS || '{}')
  } catch {
    throw new Error('configuration_error: ALLOWED_SHARED_BUCKETS is not valid JSON')
  }
  if (!isObject(parsed)) {
    throw new Error('configuration_error: ALLOWED_SHARED_BUCKETS must be a JSON object')
  }
  const buckets = parsed[organizationId]
  return Array.isArray(buckets) ? buckets.filter((bucket) => typeof bucket === 'string') : []
}

/**
 * Senders the operator lets an organization use through SES with the Worker's own AWS
 * credentials, from `ALLOWED_SHARED_SES_SENDERS` (a JSON map of organization id to addresses).
 */
export function sharedSesSenders(
  env: Pick<ServiceEnv, 'ALLOWED_SHARED_SES_SENDERS'>,
  organizationId: string,
): string[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(env.ALLOWED_SHARED_SES_SENDERS || '{}')
  } catch {
    throw new Error('configuration_error: ALLOWED_SHARED_SES_SENDERS is not valid JSON')
  }
  if (!isObject(parsed))
    throw new Error('configuration_error: ALLOWED_SHARED_SES_SENDERS must be a JSON object')
  const senders = parsed[organizationId]
  return Array.isArray(senders) ? senders.filter((sender) => typeof sender === 'string') : []
}

async function checkNotifyDestination(
  env: ServiceEnv,
  organizationId: string,
  notifyId: string,
): Promise<void> {
  const path = 'config.download.notifyDestinationId'
  const type = await destinationType(env, organizationId, notifyId)
  const problem =
    type === null
      ? `destination "${notifyId}" does not exist`
      : type === 'email' || type === 'webhook'
        ? null
        : `destination "${notifyId}" is a ${type} destination; links can only be sent through an email or webhook destination`
  if (problem) {
    throw new ApiError('destination_not_found', `${path}: ${problem}`, {
      details: { issues: [{ path, message: problem }] },
    })
  }
}
