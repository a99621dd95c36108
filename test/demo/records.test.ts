import { describe, expect, it } from 'vitest'
import { interleave, recordName, recordsFromFile } from '../../scripts/demo/records.ts'
import { sliceRecords } from './slice'

describe('demo records from data/', () => {
  it('Should make a FHIR R4 AuditEvent file one fhir-audit-event payload named by its type and subtype', () => {
    const [record, ...others] = sliceRecords().filter((each) => each.source === 'hl7-r4')
    expect(others).toEqual([])
    expect(record?.payload.type).toBe('fhir-audit-event')
    expect(record?.payload.metadata).toEqual({
      eventType: 'FHIR AuditEvent Restful Operation vread',
      resourceType: 'AuditEvent',
      fhirVersion: '4.0.1',
      source: 'hl7-r4',
      file: 'fhir-auditevents/hl7-r4/AuditEvent-example-rest.json',
      recordIndex: 0,
    })
    expect(record?.payload.data).toMatchObject({ resourceType: 'AuditEvent', id: 'example-rest' })
  })

  it('Should name an R5 AuditEvent by its category and code', () => {
    const record = sliceRecords().find((each) => each.source === 'hl7-r5')
    expect(record?.payload.metadata).toMatchObject({
      eventType: 'FHIR AuditEvent Restful Operation vread',
      fhirVersion: '5.0.0',
    })
  })

  it('Should make each CloudTrail record of an array and each Kubernetes line its own record', () => {
    const cloudtrail = sliceRecords().filter((each) => each.source === 'cloudtrail')
    expect(cloudtrail.map(recordName)).toEqual([
      'cloud-audit/aws-cloudtrail-stratus/aws.persistence.sts-federation-token.json#0',
      'cloud-audit/aws-cloudtrail-stratus/aws.persistence.sts-federation-token.json#1',
    ])
    expect(cloudtrail[0]?.payload).toMatchObject({
      type: 'aws-cloudtrail-event',
      metadata: { eventType: expect.stringMatching(/^[a-z]+\.amazonaws\.com \w+$/) },
    })
    const lines = recordsFromFile(
      'cloud-audit/kubernetes-audit-falco/two.jsonl',
      '{"verb":"get","objectRef":{"resource":"pods"}}\n\n{"verb":"delete"}\n',
    )
    expect(lines.map((each) => [each.index, each.payload.metadata.eventType])).toEqual([
      [0, 'get pods'],
      [1, 'delete'],
    ])
  })

  it('Should refuse a file that is not JSON, naming it, and ignore files of other folders', () => {
    expect(() => recordsFromFile('fhir-auditevents/hl7-r4/broken.json', '{')).toThrow(
      /^fhir-auditevents\/hl7-r4\/broken\.json: not JSON/,
    )
    expect(() => recordsFromFile('cloud-audit/aws-cloudtrail-stratus/one.json', '{}')).toThrow(
      'cloud-audit/aws-cloudtrail-stratus/one.json: expected a JSON array of records',
    )
    expect(recordsFromFile('loghub/anything.log', 'text')).toEqual([])
  })

  it('Should take a limited slice in turn from each source', () => {
    const slice = interleave(sliceRecords(), 5)
    expect(slice.map((each) => each.source)).toEqual([
      'hl7-r4',
      'hl7-r5',
      'ihe-balp',
      'cloudtrail',
      'kubernetes',
    ])
    expect(interleave(sliceRecords()).map((each) => each.source)).toEqual([
      'hl7-r4',
      'hl7-r5',
      'ihe-balp',
      'cloudtrail',
      'kubernetes',
      'cloudtrail',
    ])
  })
})
