/**
 * The seed's "FHIR Resource Audit Integration", run against the local service
 * (`npm start`, then `npm run example:fhir`). The class is the seed's, with these
 * differences:
 *
 * - the client it is given takes the service's URL and the organization's key
 *   (`local.instrument` lets a re-run reuse destinations by label and remembers what was
 *   sent, for the checks at the end);
 * - the seed delivers to the organization's default destinations without showing them;
 *   here they are created first: a webhook for the FHIR audit repository (the seed-style
 *   address `https://fhir.hospital-001.com/audit-events`, mapped onto the local inbox)
 *   and an S3 archive (on the local S3 server);
 * - types are spelled out for strict TypeScript (the AuditEvent's entity list, the
 *   action code table).
 *
 * After the run every AuditEvent is followed to both destinations: the webhook's
 * signature is verified and its body compared with what was sent, and the archived
 * object is read back from S3.
 */
import { createDeliveryService, type DeliveryService } from 'audit-delivery-service/client'
import { connectLocalStack, reportChecks } from './support/local-stack.ts'

interface Coding {
  system: string
  code: string
  display: string
}

interface AuditEntity {
  what: { reference: string }
  type: Coding
  role?: Coding
}

class FHIRAuditDelivery {
  constructor(private deliveryService: DeliveryService) {}

  async auditFHIRResourceAccess(fhirEvent: {
    resourceType: string
    resourceId: string
    action: 'create' | 'read' | 'update' | 'delete'
    userId: string
    patientId?: string
    timestamp: string
    outcome: 'success' | 'failure'
    outcomeDescription?: string
  }) {
    // Create FHIR-compliant audit event
    const auditEvent = {
      resourceType: 'AuditEvent',
      type: {
        system: 'http://dicom.nema.org/resources/ontology/DCM',
        code: this.getFHIRActionCode(fhirEvent.action),
        display: fhirEvent.action.toUpperCase(),
      },
      subtype: [
        {
          system: 'http://hl7.org/fhir/restful-interaction',
          code: fhirEvent.action,
          display: fhirEvent.action,
        },
      ],
      action: fhirEvent.action.charAt(0).toUpperCase(),
      recorded: fhirEvent.timestamp,
      outcome: fhirEvent.outcome === 'success' ? '0' : '4',
      outcomeDesc: fhirEvent.outcomeDescription,
      agent: [
        {
          type: {
            coding: [
              {
                system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type',
                code: 'humanuser',
                display: 'human user',
              },
            ],
          },
          who: {
            identifier: {
              value: fhirEvent.userId,
            },
          },
          requestor: true,
        },
      ],
      source: {
        site: 'Hospital EHR System',
        identifier: {
          value: 'ehr-system-001',
        },
      },
      entity: [
        {
          what: {
            reference: `${fhirEvent.resourceType}/${fhirEvent.resourceId}`,
          },
          type: {
            system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
            code: '2',
            display: 'System Object',
          },
        },
      ] as AuditEntity[],
    }

    // Add patient entity if applicable
    if (fhirEvent.patientId) {
      auditEvent.entity.push({
        what: {
          reference: `Patient/${fhirEvent.patientId}`,
        },
        type: {
          system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
          code: '1',
          display: 'Person',
        },
        role: {
          system: 'http://terminology.hl7.org/CodeSystem/object-role',
          code: '1',
          display: 'Patient',
        },
      })
    }

    return await this.deliveryService.deliver({
      organizationId: 'hospital-001',
      destinations: 'default', // Use default FHIR audit destinations
      payload: {
        type: 'fhir-audit-event',
        data: auditEvent,
        metadata: {
          fhirVersion: '4.0.1',
          resourceType: fhirEvent.resourceType,
          action: fhirEvent.action,
          outcome: fhirEvent.outcome,
        },
      },
      options: {
        priority: fhirEvent.outcome === 'failure' ? 9 : 7,
        idempotencyKey: `fhir-audit-${fhirEvent.resourceType}-${fhirEvent.resourceId}-${fhirEvent.timestamp}`,
        tags: ['fhir', 'audit', fhirEvent.resourceType.toLowerCase()],
      },
    })
  }

  private getFHIRActionCode(action: string): string {
    const actionCodes: Record<string, string> = {
      create: '110100',
      read: '110101',
      update: '110102',
      delete: '110103',
    }
    return actionCodes[action] || '110100'
  }
}

// Usage: the organization's default FHIR audit destinations, then a few resource accesses.
const local = await connectLocalStack('fhir')
await local.ensureBuckets(['fhir-audit-archive'])
const apiKeys = await local.provision([{ id: 'hospital-001', name: 'Hospital 001' }])
const deliveryService = local.instrument(createDeliveryService({ baseUrl: local.baseUrl, apiKeys }))

const defaults = [
  await deliveryService.createDestination({
    organizationId: 'hospital-001',
    label: 'FHIR Audit Repository',
    type: 'webhook',
    description: 'The AuditEvent repository of the FHIR server',
    config: {
      webhook: {
        url: local.webhookUrl('https://fhir.hospital-001.com/audit-events'),
        method: 'POST',
        headers: { 'X-FHIR-Version': '4.0.1' },
        timeout: 10000,
      },
    },
  }),
  await deliveryService.createDestination({
    organizationId: 'hospital-001',
    label: 'FHIR AuditEvent Archive',
    type: 'storage',
    config: {
      storage: {
        provider: 's3',
        config: local.s3({ region: 'us-east-1', bucket: 'fhir-audit-archive' }),
        path: 'fhir/{organizationId}/{year}/{month}/{day}',
      },
    },
  }),
]
for (const destination of defaults)
  await deliveryService.setDefaultDestination('hospital-001', destination.id)

const fhirAudit = new FHIRAuditDelivery(deliveryService)
const now = Date.now()
const accesses = [
  {
    resourceType: 'Patient',
    resourceId: 'P-1001',
    action: 'read',
    userId: 'dr.smith',
    patientId: 'P-1001',
    outcome: 'success',
  },
  {
    resourceType: 'Observation',
    resourceId: 'obs-bp-77',
    action: 'create',
    userId: 'nurse.jones',
    patientId: 'P-1001',
    outcome: 'success',
  },
  {
    resourceType: 'MedicationRequest',
    resourceId: 'rx-3391',
    action: 'update',
    userId: 'dr.smith',
    patientId: 'P-1002',
    outcome: 'success',
  },
  {
    resourceType: 'DocumentReference',
    resourceId: 'doc-12',
    action: 'delete',
    userId: 'records.clerk',
    patientId: 'P-1003',
    outcome: 'failure',
    outcomeDescription: 'Deletion refused: document is under legal hold',
  },
  {
    resourceType: 'Organization',
    resourceId: 'org-lab-2',
    action: 'read',
    userId: 'integration.bot',
    outcome: 'success',
  },
] as const

for (const [index, access] of accesses.entries()) {
  const receipt = await fhirAudit.auditFHIRResourceAccess({
    ...access,
    timestamp: new Date(now + index).toISOString(),
  })
  console.log(
    `${access.action.padEnd(6)} ${access.resourceType}/${access.resourceId} (${access.outcome}): ${receipt.deliveryId} → ${receipt.destinations.map((each) => each.label).join(', ')}`,
  )
}

const summary = await local.verifySent()
reportChecks('FHIR AuditEvent auditing', summary, [
  `${accesses.length} FHIR R4 AuditEvents sent to the default destinations: the FHIR audit repository (webhook) and the archive (S3).`,
])
await local.close()
