/**
 * Audit events and delivery bodies the benchmark sends, shaped like the seed's examples:
 * a PHI-access event for single deliveries, and the seed's high-volume stream (event i
 * belongs to `org-(i % 10)`, cycles through three actions, types and severities).
 */

/** The seed's raw event number `i` of the high-volume stream. */
export function streamEvent(i: number, organizations: number) {
  return {
    id: `event-${i}`,
    organization: i % organizations,
    timestamp: new Date().toISOString(),
    userId: `user-${i % 1000}`,
    action: ['read', 'write', 'delete'][i % 3] as string,
    resource: `resource-${i % 100}`,
    type: ['user-action', 'admin-action', 'system-event'][i % 3] as string,
    severity: ['low', 'medium', 'high'][i % 3] as string,
    source: 'ehr-system',
    outcome: 'success',
  }
}

export type StreamEvent = ReturnType<typeof streamEvent>

/** Priorities the seed gives event types. */
const PRIORITY: Record<string, number> = {
  'security-event': 10,
  'phi-access': 9,
  'admin-action': 7,
  'user-action': 5,
  'system-event': 3,
}

/** The seed's destination choice: the defaults, plus the security webhook for high severity. */
export function destinationsFor(event: StreamEvent): string[] {
  const destinations = ['default']
  if (event.severity === 'high' || event.type === 'security-event')
    destinations.push('security-webhook')
  return destinations
}

export function priorityOf(event: StreamEvent): number {
  return PRIORITY[event.type] ?? 5
}

/** One delivery per event, as the batch route takes it: to the given destinations. */
export function individualDelivery(event: StreamEvent, destinations: string[]) {
  return {
    destinations,
    payload: {
      type: 'audit-event',
      data: {
        eventId: event.id,
        timestamp: event.timestamp,
        userId: event.userId,
        action: event.action,
        resource: event.resource,
        outcome: event.outcome,
      },
      metadata: { eventType: event.type, severity: event.severity, source: event.source },
    },
    options: {
      priority: priorityOf(event),
      tags: ['batch-processed', event.type, `severity-${event.severity}`],
    },
  }
}

/** The single-delivery body of the ingest phases: a PHI access record to one destination. */
export function phiAccessDelivery(destinationId: string): string {
  return JSON.stringify({
    destinations: [destinationId],
    payload: {
      type: 'phi-access-audit',
      data: {
        patientId: 'P-1001',
        userId: 'dr.smith',
        action: 'read',
        resource: 'chart/allergies',
        timestamp: '2026-12-03T12:00:00.000Z',
      },
      metadata: { eventType: 'phi-access', severity: 'high', source: 'ehr-system' },
    },
    options: { priority: 5, correlationId: 'session-42', tags: ['hipaa', 'phi-access'] },
  })
}
