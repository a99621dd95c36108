/**
 * E-mail delivery: compose the message once, then hand it to the destination's provider.
 */
import type { ServiceEnv } from '../../env'
import type { EmailConfig, LoadedDestination } from '../../schemas/destination'
import type { DeliveryHandler, Outcome } from '../types'
import { composeEmail, isEmail, type OutgoingEmail } from './message'
import { checkPostmark, sendWithPostmark } from './postmark'
import { checkResend, sendWithResend } from './resend'
import { checkSendGrid, sendWithSendGrid } from './sendgrid'
import { checkSes, sendWithSes } from './ses'
import { checkSmtp, sendWithSmtp } from './smtp'

export type EmailDestination = Extract<LoadedDestination, { type: 'email' }>

type Sender = (email: OutgoingEmail, config: EmailConfig, env: ServiceEnv) => Promise<Outcome>
type Checker = (config: EmailConfig, env: ServiceEnv) => Promise<Outcome>

const PROVIDERS: Record<EmailConfig['service'], { send: Sender; check: Checker }> = {
  ses: { send: sendWithSes, check: checkSes },
  sendgrid: { send: sendWithSendGrid, check: checkSendGrid },
  resend: { send: sendWithResend, check: checkResend },
  postmark: { send: sendWithPostmark, check: checkPostmark },
  smtp: { send: sendWithSmtp, check: checkSmtp },
}

export const deliverEmail: DeliveryHandler<EmailDestination> = async (job, destination, env) => {
  const email = await composeEmail(job, destination.config, destination.id)
  if (!isEmail(email)) return email
  return PROVIDERS[destination.config.service].send(email, destination.config, env)
}

/** The connection test: the provider's harmless credential check (SMTP: connect and AUTH). */
export function checkEmailProvider(
  destination: EmailDestination,
  env: ServiceEnv,
): Promise<Outcome> {
  return PROVIDERS[destination.config.service].check(destination.config, env)
}
