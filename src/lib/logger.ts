/**
 * Structured logs: one JSON object per line with stable field names. Callers pass ids,
 * outcomes and timings only: never secrets, keys or payload bodies.
 */
export interface LogFields {
  event: string
  requestId?: string
  organizationId?: string
  deliveryId?: string
  destinationId?: string
  attempt?: number
  outcome?: string
  status?: number
  route?: string
  method?: string
  durationMs?: number
  error?: string
  stack?: string
  [key: string]: string | number | boolean | undefined | null
}

type Level = 'debug' | 'info' | 'warn' | 'error'

function write(level: Level, fields: LogFields): void {
  const line = JSON.stringify({ time: new Date().toISOString(), level, ...fields })
  if (level === 'error') console.error(line)
  else if (level === 'warn') console.warn(line)
  else console.log(line)
}

export const log = {
  info: (fields: LogFields) => write('info', fields),
  warn: (fields: LogFields) => write('warn', fields),
  error: (fields: LogFields) => write('error', fields),
}
