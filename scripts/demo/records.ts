/**
 * The demo's input: real audit records from `data/`, each turned into the seed's
 * `payload { type, data, metadata }`. `data` is the record itself; `metadata` says where
 * it came from and names an `eventType` for the e-mail subject. Pure functions: the files
 * are read by the caller (Node for `npm run demo`, bundled text in the tests).
 */

/** Where a record comes from; the order is the order of the report. */
export const SOURCES = {
  'hl7-r4': { label: 'FHIR AuditEvent, HL7 R4 examples', folder: 'fhir-auditevents/hl7-r4/' },
  'hl7-r5': { label: 'FHIR AuditEvent, HL7 R5 examples', folder: 'fhir-auditevents/hl7-r5/' },
  'ihe-balp': {
    label: 'FHIR AuditEvent, IHE Basic Audit Log Patterns (R4)',
    folder: 'fhir-auditevents/ihe-balp-r4/',
  },
  cloudtrail: { label: 'AWS CloudTrail records', folder: 'cloud-audit/aws-cloudtrail-stratus/' },
  kubernetes: { label: 'Kubernetes audit events', folder: 'cloud-audit/kubernetes-audit-falco/' },
} as const

export type SourceId = keyof typeof SOURCES

export interface DemoPayload {
  type: string
  data: unknown
  metadata: Record<string, unknown>
}

export interface DemoRecord {
  source: SourceId
  /** Path under `data/`. */
  file: string
  /** Position of the record in its file (CloudTrail arrays and JSON-lines hold several). */
  index: number
  payload: DemoPayload
}

type Json = Record<string, unknown>

const asObject = (value: unknown): Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {}
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined
const firstCoding = (concept: unknown): Json =>
  asObject((asObject(concept).coding as unknown[] | undefined)?.[0])
const nameOf = (coding: Json): string | undefined => text(coding.display) ?? text(coding.code)

/** The source of a file by its folder under `data/`, or null for files the demo does not use. */
export function sourceOf(file: string): SourceId | null {
  for (const [id, source] of Object.entries(SOURCES))
    if (file.startsWith(source.folder)) return id as SourceId
  return null
}

/** R4 names the event in `type`/`subtype`, R5 in `category`/`code`. */
function fhirEventType(resource: Json, r5: boolean): string {
  const kind = r5
    ? nameOf(firstCoding((resource.category as unknown[] | undefined)?.[0]))
    : nameOf(asObject(resource.type))
  const detail = r5
    ? nameOf(firstCoding(resource.code))
    : nameOf(asObject((resource.subtype as unknown[] | undefined)?.[0]))
  return ['FHIR AuditEvent', kind, detail].filter(Boolean).join(' ')
}

function payloadFor(source: SourceId, file: string, index: number, record: unknown): DemoPayload {
  const data = asObject(record)
  const origin = { source, file, recordIndex: index }
  switch (source) {
    case 'hl7-r4':
    case 'hl7-r5':
    case 'ihe-balp': {
      const r5 = source === 'hl7-r5'
      return {
        type: 'fhir-audit-event',
        data: record,
        metadata: {
          eventType: fhirEventType(data, r5),
          resourceType: 'AuditEvent',
          fhirVersion: r5 ? '5.0.0' : '4.0.1',
          ...origin,
        },
      }
    }
    case 'cloudtrail':
      return {
        type: 'aws-cloudtrail-event',
        data: record,
        metadata: {
          eventType: `${text(data.eventSource) ?? 'aws'} ${text(data.eventName) ?? 'event'}`,
          ...origin,
        },
      }
    case 'kubernetes': {
      const object = asObject(data.objectRef)
      return {
        type: 'kubernetes-audit-event',
        data: record,
        metadata: {
          eventType: `${text(data.verb) ?? 'request'} ${text(object.resource) ?? ''}`.trim(),
          ...origin,
        },
      }
    }
  }
}

/**
 * The records of one file under `data/`: a FHIR resource per file, a JSON array of
 * CloudTrail records, or one Kubernetes event per line. Throws on text that is not what
 * its folder promises, naming the file.
 */
export function recordsFromFile(file: string, content: string): DemoRecord[] {
  const source = sourceOf(file)
  if (!source) return []
  let parsed: unknown[]
  try {
    if (source === 'kubernetes')
      parsed = content
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as unknown)
    else if (source === 'cloudtrail') parsed = JSON.parse(content) as unknown[]
    else parsed = [JSON.parse(content) as unknown]
  } catch (error) {
    throw new Error(`${file}: not JSON (${(error as Error).message})`)
  }
  if (!Array.isArray(parsed)) throw new Error(`${file}: expected a JSON array of records`)
  return parsed.map((record, index) => ({
    source,
    file,
    index,
    payload: payloadFor(source, file, index, record),
  }))
}

/**
 * Up to `limit` records taken in turn from each source, so that a small slice still holds
 * every kind of input. Order within a source is kept.
 */
export function interleave(records: readonly DemoRecord[], limit = records.length): DemoRecord[] {
  const queues = Object.keys(SOURCES).map((id) => records.filter((record) => record.source === id))
  const out: DemoRecord[] = []
  for (
    let round = 0;
    out.length < limit && queues.some((queue) => round < queue.length);
    round += 1
  )
    for (const queue of queues) {
      const record = queue[round]
      if (record && out.length < limit) out.push(record)
    }
  return out
}

/** `file#index`, how the report names a record. */
export function recordName(record: DemoRecord): string {
  return `${record.file}#${record.index}`
}
