/**
 * The seed's "HIPAA Compliance Audit Trail", run against the local service (`npm start`,
 * then `npm run example:hipaa`). The class is the seed's, with these differences:
 *
 * - the client takes the service's URL and the organization's key instead of a database
 *   client; `local.instrument` lets a re-run reuse the destinations by label and
 *   remembers what was sent, for the checks at the end;
 * - the S3 archive and the e-mail provider are mapped onto the local peers with
 *   `local.s3(...)` and `local.email(...)` (see support/local-stack.ts);
 * - setup is awaited (`ready`) instead of fired from the constructor;
 * - the seed's 30-day webhook secret rotation is switched on once the compliance e-mail
 *   exists, as its alert destination: the service refuses rotation with nowhere to send
 *   the new secrets;
 * - the compliance report's figures are read from the service instead of being fixed
 *   numbers, and types are spelled out for strict TypeScript.
 *
 * After the run every delivery is followed to its destinations: the archive object is
 * read back from S3 and compared byte for byte, the high-risk mails are found with their
 * rendered subject.
 */
import {
  createDeliveryService,
  type Delivery,
  type DeliveryService,
} from 'audit-delivery-service/client'
import { connectLocalStack, reportChecks } from './support/local-stack.ts'

const local = await connectLocalStack('hipaa')
await local.ensureBuckets(['hipaa-audit-archive'])
const apiKeys = await local.provision([{ id: 'hospital-001', name: 'Hospital 001' }])

class HIPAAAuditDelivery {
  private deliveryService: DeliveryService
  private complianceDestinations: Map<string, string> = new Map()
  readonly ready: Promise<void>

  constructor(service: { baseUrl: string; apiKeys: Record<string, string> }) {
    this.deliveryService = local.instrument(
      createDeliveryService({
        ...service,
        config: {
          retry: {
            maxAttempts: 10, // High retry count for compliance
            baseDelay: 2000,
            maxDelay: 300000, // 5 minutes max delay
          },
          security: {
            encryption: { enabled: true },
          },
        },
      }),
    )

    this.ready = this.setupComplianceDestinations()
  }

  private async setupComplianceDestinations() {
    // HIPAA-compliant S3 archive
    const hipaaArchive = await this.deliveryService.createDestination({
      organizationId: 'hospital-001',
      label: 'HIPAA Audit Archive',
      type: 'storage',
      description: '7-year retention for HIPAA compliance',
      config: {
        storage: {
          provider: 's3',
          config: local.s3({
            region: 'us-east-1',
            bucket: 'hipaa-audit-archive',
            serverSideEncryption: 'aws:kms',
            kmsKeyId: process.env.HIPAA_KMS_KEY_ID,
            storageClass: 'STANDARD_IA',
          }),
          path: '/audit-logs/{organizationId}/{year}/{month}/{day}/',
          retention: {
            days: 2555, // 7 years
            autoCleanup: true,
          },
        },
      },
    })

    // Compliance officer email
    const complianceEmail = await this.deliveryService.createDestination({
      organizationId: 'hospital-001',
      label: 'Compliance Officer Notifications',
      type: 'email',
      config: {
        email: local.email({
          service: 'ses',
          config: {
            region: 'us-east-1',
            configurationSet: 'hipaa-compliant-emails',
          },
          from: 'hipaa-audit@hospital.com',
          subject: '[HIPAA] Audit Event Notification - {{eventType}}',
          bodyTemplate: `
            CONFIDENTIAL - HIPAA PROTECTED INFORMATION
            
            An audit event requiring attention has occurred:
            
            Event Type: {{eventType}}
            Patient ID: {{patientId}}
            User: {{userId}}
            Timestamp: {{timestamp}}
            Action: {{action}}
            
            This notification is sent in compliance with HIPAA audit requirements.
            Please review the attached detailed report.
          `,
          recipients: ['compliance@hospital.com', 'privacy-officer@hospital.com'],
          encryption: {
            enabled: true,
            algorithm: 'AES-256-GCM',
          },
        }),
      },
    })

    this.complianceDestinations.set('archive', hipaaArchive.id)
    this.complianceDestinations.set('email', complianceEmail.id)

    // Secrets rotate every 30 days; the compliance officer receives each new one.
    const settings = await this.deliveryService.getSettings({ organizationId: 'hospital-001' })
    await this.deliveryService.updateSettings(
      {
        ...settings,
        security: {
          ...settings.security,
          webhookSecrets: { ...settings.security.webhookSecrets, rotationDays: 30 },
          alertDestinationId: complianceEmail.id,
        },
      },
      { organizationId: 'hospital-001' },
    )
  }

  private destination(name: string): string {
    const id = this.complianceDestinations.get(name)
    if (!id) throw new Error(`The ${name} destination is not set up`)
    return id
  }

  async logPatientAccess(accessEvent: {
    patientId: string
    userId: string
    action: string
    timestamp: string
    ipAddress: string
    userAgent: string
    dataElements: string[]
    accessReason: string
    riskLevel: 'low' | 'medium' | 'high'
  }) {
    const destinations = [this.destination('archive')]

    // Add email notification for high-risk access
    if (accessEvent.riskLevel === 'high') {
      destinations.push(this.destination('email'))
    }

    return await this.deliveryService.deliver({
      organizationId: 'hospital-001',
      destinations,
      payload: {
        type: 'phi-access-audit',
        data: {
          eventId: `phi-access-${Date.now()}`,
          ...accessEvent,
          complianceFlags: {
            hipaaRequired: true,
            retentionYears: 7,
            phiInvolved: true,
          },
        },
        metadata: {
          eventType: 'phi-access',
          confidentiality: 'restricted',
          complianceFramework: 'HIPAA',
          auditCategory: 'patient-data-access',
        },
      },
      options: {
        priority: accessEvent.riskLevel === 'high' ? 10 : 8,
        idempotencyKey: `phi-access-${accessEvent.patientId}-${accessEvent.timestamp}`,
        correlationId: accessEvent.userId,
        tags: ['hipaa', 'phi-access', accessEvent.riskLevel],
      },
    })
  }

  async generateComplianceReport(reportPeriod: {
    startDate: string
    endDate: string
    reportType: 'monthly' | 'quarterly' | 'annual'
  }) {
    const reportData = await this.generateReportData(reportPeriod)

    return await this.deliveryService.deliver({
      organizationId: 'hospital-001',
      destinations: [this.destination('archive'), this.destination('email')],
      payload: {
        type: 'compliance-report',
        data: {
          reportId: `compliance-${reportPeriod.reportType}-${reportPeriod.startDate}`,
          period: reportPeriod,
          summary: reportData.summary,
          details: reportData.details,
          generatedAt: new Date().toISOString(),
        },
        metadata: {
          reportType: `hipaa-${reportPeriod.reportType}`,
          confidentiality: 'internal',
          complianceFramework: 'HIPAA',
        },
      },
      options: {
        priority: 9,
        correlationId: `compliance-report-${reportPeriod.reportType}`,
        tags: ['compliance', 'report', reportPeriod.reportType],
      },
    })
  }

  /** The period's deliveries as the service recorded them. */
  private async generateReportData(period: { startDate: string; endDate: string }) {
    const deliveries: Delivery[] = []
    let cursor: string | undefined
    do {
      const page = await this.deliveryService.listDeliveries({
        organizationId: 'hospital-001',
        startDate: period.startDate,
        endDate: period.endDate,
        limit: 200,
        cursor,
      })
      deliveries.push(...page.deliveries)
      cursor = page.nextCursor ?? undefined
    } while (cursor)
    const count = (test: (tags: string[], type: string, status: string) => boolean) =>
      deliveries.filter((each) => test(each.tags, each.payloadType, each.status)).length
    return {
      summary: {
        totalEvents: deliveries.length,
        phiAccessEvents: count((_tags, type) => type === 'phi-access-audit'),
        securityEvents: count((tags) => tags.includes('high')),
        complianceViolations: count((_tags, _type, status) => status === 'failed'),
      },
      details: {
        byStatus: Object.fromEntries(
          ['queued', 'in_progress', 'delivered', 'partially_delivered', 'failed'].map((status) => [
            status,
            count((_tags, _type, each) => each === status),
          ]),
        ),
      },
    }
  }
}

// Usage: a morning's accesses to patient records, then the monthly report.
const runStarted = new Date()
const hipaa = new HIPAAAuditDelivery({ baseUrl: local.baseUrl, apiKeys })
await hipaa.ready

const accesses = [
  { patientId: 'P-1001', userId: 'dr.smith', action: 'read', riskLevel: 'low' },
  { patientId: 'P-1002', userId: 'nurse.jones', action: 'update', riskLevel: 'medium' },
  { patientId: 'P-1001', userId: 'billing.clerk', action: 'export', riskLevel: 'high' },
  { patientId: 'P-1003', userId: 'dr.smith', action: 'read', riskLevel: 'low' },
  { patientId: 'P-1004', userId: 'contractor.7', action: 'bulk-read', riskLevel: 'high' },
] as const

for (const [index, access] of accesses.entries()) {
  const receipt = await hipaa.logPatientAccess({
    ...access,
    timestamp: new Date(runStarted.getTime() + index).toISOString(),
    ipAddress: `10.20.0.${index + 10}`,
    userAgent: 'EHR-Client/5.2',
    dataElements: ['demographics', 'diagnoses', 'medications'],
    accessReason:
      access.riskLevel === 'high' ? 'Records request outside a care relationship' : 'Treatment',
  })
  console.log(
    `${access.riskLevel.padEnd(6)} ${access.userId} ${access.action} ${access.patientId}: ${receipt.deliveryId}`,
  )
}

const report = await hipaa.generateComplianceReport({
  startDate: new Date(runStarted.getTime() - 60_000).toISOString(),
  endDate: new Date().toISOString(),
  reportType: 'monthly',
})
console.log(`monthly compliance report: ${report.deliveryId}`)

const summary = await local.verifySent()
reportChecks('HIPAA audit trail', summary, [
  `${accesses.length} PHI accesses archived to s3://hipaa-audit-archive, the ${accesses.filter((a) => a.riskLevel === 'high').length} high-risk ones also mailed, encrypted, to the compliance officer;`,
  'the compliance report archived and mailed.',
])
await local.close()
