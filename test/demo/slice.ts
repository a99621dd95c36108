/**
 * A small slice of the real records in `data/`, one file of each kind, read as text the
 * way `npm run demo` reads them (the test runs inside workerd, which has no file system).
 */

import cloudtrail from '../../data/cloud-audit/aws-cloudtrail-stratus/aws.persistence.sts-federation-token.json?raw'
import kubernetes from '../../data/cloud-audit/kubernetes-audit-falco/exec_pod.jsonl?raw'
import r4 from '../../data/fhir-auditevents/hl7-r4/AuditEvent-example-rest.json?raw'
import r5 from '../../data/fhir-auditevents/hl7-r5/AuditEvent-example-rest.json?raw'
import balp from '../../data/fhir-auditevents/ihe-balp-r4/AuditEvent-ex-auditBasicReadServer.json?raw'
import { type DemoRecord, recordsFromFile } from '../../scripts/demo/records.ts'

const FILES: Array<[string, string]> = [
  ['fhir-auditevents/hl7-r4/AuditEvent-example-rest.json', r4],
  ['fhir-auditevents/hl7-r5/AuditEvent-example-rest.json', r5],
  ['fhir-auditevents/ihe-balp-r4/AuditEvent-ex-auditBasicReadServer.json', balp],
  ['cloud-audit/aws-cloudtrail-stratus/aws.persistence.sts-federation-token.json', cloudtrail],
  ['cloud-audit/kubernetes-audit-falco/exec_pod.jsonl', kubernetes],
]

/** Every record of the slice's files. */
export function sliceRecords(): DemoRecord[] {
  return FILES.flatMap(([file, text]) => recordsFromFile(file, text))
}
