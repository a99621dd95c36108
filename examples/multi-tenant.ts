/**
 * The seed's "Organization-Isolated Delivery Service" (multi-tenant setup), run against
 * the local service (`npm start`, then `npm run example:tenant`). The class is the
 * seed's, with these differences:
 *
 * - the client takes the service's URL and one API key per organization (`apiKeys`)
 *   instead of a database client; the organizations are created first through the admin
 *   API; `local.instrument` lets a re-run reuse destinations by label and remembers what
 *   was sent, for the checks at the end;
 * - SendGrid, the S3 buckets and `https://api.hospital-a.com/audit-webhook` are mapped
 *   onto the local SMTP server, S3 server and webhook inbox with `local.email`,
 *   `local.s3` and `local.webhookUrl` (see support/local-stack.ts);
 * - types are spelled out for strict TypeScript, and the seed's undefined
 *   `patientAccessEvent` and `loginEvent` are given values.
 *
 * After the run every delivery is followed to each of its destinations, each tenant's
 * key is shown not to reach the other tenant's data, and each organization's metrics are
 * read back.
 */
import {
  createDeliveryService,
  type DeliveryMetrics,
  type DeliveryService,
  DeliveryServiceError,
} from 'audit-delivery-service/client'
import { connectLocalStack, reportChecks } from './support/local-stack.ts'

interface OrganizationConfig {
  organizationId: string
  name: string
  complianceRequirements: string[]
  defaultDestinations: {
    email: string
    storage: string
    webhook?: string
  }
  retentionPolicies: {
    auditLogs: number // days
    reports: number
  }
}

interface AuditPayload {
  type: string
  data: Record<string, unknown>
  metadata?: Record<string, unknown>
}

const local = await connectLocalStack('multi-tenant')
await local.ensureBuckets(['audit-archive-hospital-a', 'audit-archive-clinic-b'])
const apiKeys = await local.provision([
  { id: 'hospital-a', name: 'General Hospital A' },
  { id: 'clinic-b', name: 'Specialty Clinic B' },
])

class MultiTenantDeliveryService {
  private deliveryService: DeliveryService
  private organizationConfigs: Map<
    string,
    OrganizationConfig & { destinations: Record<string, string> }
  > = new Map()

  constructor(service: { baseUrl: string; apiKeys: Record<string, string> }) {
    this.deliveryService = local.instrument(
      createDeliveryService({
        ...service,
        config: {
          security: {
            organizationIsolation: true,
            accessControl: { enabled: true },
          },
        },
      }),
    )
  }

  async setupOrganization(orgConfig: OrganizationConfig) {
    // Create organization-specific destinations
    const destinations = await this.createOrganizationDestinations(orgConfig)

    // Set up default destinations
    for (const [_type, destinationId] of Object.entries(destinations)) {
      await this.deliveryService.setDefaultDestination(orgConfig.organizationId, destinationId)
    }

    // Store organization configuration
    this.organizationConfigs.set(orgConfig.organizationId, {
      ...orgConfig,
      destinations,
    })

    return destinations
  }

  private async createOrganizationDestinations(orgConfig: OrganizationConfig) {
    const destinations: Record<string, string> = {}

    // Organization-specific email destination
    const emailDest = await this.deliveryService.createDestination({
      organizationId: orgConfig.organizationId,
      label: `${orgConfig.name} - Compliance Email`,
      type: 'email',
      config: {
        email: local.email({
          service: 'sendgrid',
          apiKey: process.env[`SENDGRID_KEY_${orgConfig.organizationId.toUpperCase()}`],
          from: `audit@${orgConfig.organizationId}.com`,
          subject: `[${orgConfig.name}] Audit Notification - {{eventType}}`,
          recipients: [orgConfig.defaultDestinations.email],
        }),
      },
    })
    destinations.email = emailDest.id

    // Organization-specific storage destination
    const storageDest = await this.deliveryService.createDestination({
      organizationId: orgConfig.organizationId,
      label: `${orgConfig.name} - Audit Archive`,
      type: 'storage',
      config: {
        storage: {
          provider: 's3',
          config: local.s3({
            region: 'us-east-1',
            bucket: `audit-archive-${orgConfig.organizationId}`,
            accessKeyId: process.env.AWS_ACCESS_KEY_ID,
            secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
          }),
          path: `/${orgConfig.organizationId}/audit-logs/{year}/{month}/`,
          retention: {
            days: orgConfig.retentionPolicies.auditLogs,
            autoCleanup: true,
          },
        },
      },
    })
    destinations.storage = storageDest.id

    // Optional webhook destination
    if (orgConfig.defaultDestinations.webhook) {
      const webhookDest = await this.deliveryService.createDestination({
        organizationId: orgConfig.organizationId,
        label: `${orgConfig.name} - Integration Webhook`,
        type: 'webhook',
        config: {
          webhook: {
            url: local.webhookUrl(orgConfig.defaultDestinations.webhook),
            method: 'POST',
            headers: {
              'Content-Type': 'application/json',
              'X-Organization': orgConfig.organizationId,
            },
            timeout: 30000,
          },
        },
      })
      destinations.webhook = webhookDest.id
    }

    return destinations
  }

  async deliverForOrganization(
    organizationId: string,
    payload: AuditPayload,
    options?: {
      destinationTypes?: string[]
      priority?: number
      tags?: string[]
    },
  ) {
    const orgConfig = this.organizationConfigs.get(organizationId)
    if (!orgConfig) {
      throw new Error(`Organization ${organizationId} not configured`)
    }

    // Determine destinations based on options
    let destinations: string[] | 'default'
    if (options?.destinationTypes) {
      destinations = options.destinationTypes
        .map((type) => orgConfig.destinations[type])
        .filter((id): id is string => Boolean(id))
    } else {
      destinations = 'default' // Use default destinations
    }

    return await this.deliveryService.deliver({
      organizationId,
      destinations,
      payload: {
        ...payload,
        metadata: {
          ...payload.metadata,
          organizationName: orgConfig.name,
          complianceRequirements: orgConfig.complianceRequirements,
        },
      },
      options: {
        priority: options?.priority || 5,
        correlationId: `${organizationId}-${Date.now()}`,
        tags: [...(options?.tags || []), 'multi-tenant', organizationId],
      },
    })
  }

  async getOrganizationMetrics(
    organizationId: string,
    timeRange: {
      startDate: string
      endDate: string
    },
  ) {
    return await this.deliveryService.getDeliveryMetrics({
      organizationId,
      startDate: timeRange.startDate,
      endDate: timeRange.endDate,
    })
  }
}

// Usage example
const runStarted = new Date()
const multiTenantService = new MultiTenantDeliveryService({ baseUrl: local.baseUrl, apiKeys })

// Setup multiple organizations
await multiTenantService.setupOrganization({
  organizationId: 'hospital-a',
  name: 'General Hospital A',
  complianceRequirements: ['HIPAA', 'SOC2'],
  defaultDestinations: {
    email: 'compliance@hospital-a.com',
    storage: 'audit-archive-hospital-a',
    webhook: 'https://api.hospital-a.com/audit-webhook',
  },
  retentionPolicies: {
    auditLogs: 2555, // 7 years
    reports: 365, // 1 year
  },
})

await multiTenantService.setupOrganization({
  organizationId: 'clinic-b',
  name: 'Specialty Clinic B',
  complianceRequirements: ['HIPAA'],
  defaultDestinations: {
    email: 'admin@clinic-b.com',
    storage: 'audit-archive-clinic-b',
  },
  retentionPolicies: {
    auditLogs: 2555,
    reports: 180,
  },
})

const patientAccessEvent = {
  patientId: 'A-20931',
  userId: 'dr.alvarez',
  action: 'read',
  resource: 'Patient/A-20931/Encounter',
  timestamp: new Date().toISOString(),
}
const loginEvent = {
  userId: 'front.desk.2',
  method: 'password+totp',
  outcome: 'success',
  ipAddress: '10.40.2.17',
  timestamp: new Date().toISOString(),
}

// Deliver audit events for different organizations
const atHospital = await multiTenantService.deliverForOrganization(
  'hospital-a',
  {
    type: 'patient-access',
    data: patientAccessEvent,
    metadata: { eventType: 'patient-access' },
  },
  {
    destinationTypes: ['email', 'storage', 'webhook'],
    priority: 8,
    tags: ['patient-access', 'high-priority'],
  },
)

const atClinic = await multiTenantService.deliverForOrganization(
  'clinic-b',
  {
    type: 'user-login',
    data: loginEvent,
    metadata: { eventType: 'user-login' },
  },
  {
    destinationTypes: ['storage'],
    priority: 5,
  },
)
console.log(
  `hospital-a patient access: ${atHospital.deliveryId} → ${atHospital.destinations.length} destinations`,
)
console.log(`clinic-b login: ${atClinic.deliveryId} → ${atClinic.destinations.length} destination`)

const summary = await local.verifySent()
const isolation = await checkIsolation(atClinic.deliveryId, summary.failures)
const metricsLines = await checkMetrics(
  { 'hospital-a': atHospital.destinations.length, 'clinic-b': atClinic.destinations.length },
  summary.failures,
)
reportChecks('Multi-tenant setup', summary, [
  'hospital-a: e-mail, S3 archive and integration webhook, all defaults; clinic-b: e-mail and S3 archive, both defaults.',
  ...isolation,
  ...metricsLines,
])
await local.close()

/** Each tenant's key reaches only its own organization: hospital-a cannot read clinic-b. */
async function checkIsolation(clinicDeliveryId: string, failures: string[]): Promise<string[]> {
  const tenants = createDeliveryService({ baseUrl: local.baseUrl, apiKeys })
  const crossRead = await tenants
    .getDeliveryStatus(clinicDeliveryId, { organizationId: 'hospital-a' })
    .then(() => 'readable')
    .catch((error: unknown) =>
      error instanceof DeliveryServiceError ? `${error.status} ${error.code}` : String(error),
    )
  if (crossRead !== '404 not_found')
    failures.push(`isolation: clinic-b's delivery was ${crossRead} with hospital-a's key`)
  const { destinations } = await tenants.listDestinations({ organizationId: 'clinic-b' })
  const labels = destinations.map((each) => each.label)
  if (labels.some((label) => !label.startsWith('Specialty Clinic B')))
    failures.push(`isolation: clinic-b lists ${labels.join(', ')}`)
  return [
    `hospital-a's key reading clinic-b's delivery: ${crossRead}`,
    `clinic-b's destinations: ${labels.join(', ')}`,
  ]
}

/**
 * Each organization's metrics since this run began show at least what this run delivered
 * (they roll up within seconds of each attempt, so they are polled for a while).
 */
async function checkMetrics(
  delivered: Record<string, number>,
  failures: string[],
): Promise<string[]> {
  const range = {
    startDate: new Date(runStarted.getTime() - 60_000).toISOString(),
    endDate: new Date(Date.now() + 60_000).toISOString(),
  }
  const lines: string[] = []
  for (const [organizationId, expected] of Object.entries(delivered)) {
    const deadline = Date.now() + 30_000
    let metrics: DeliveryMetrics = await multiTenantService.getOrganizationMetrics(
      organizationId,
      range,
    )
    while (metrics.totals.delivered < expected && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      metrics = await multiTenantService.getOrganizationMetrics(organizationId, range)
    }
    const { totals, latency } = metrics
    lines.push(
      `${organizationId} metrics since ${range.startDate}: ${totals.accepted} accepted, ${totals.delivered} delivered, ${totals.failed} failed, success rate ${metrics.successRate ?? '-'}, p95 attempt ${latency.p95 ?? '-'} ms`,
    )
    if (totals.delivered < expected)
      failures.push(
        `metrics: ${organizationId} shows ${totals.delivered} delivered; this run delivered ${expected}`,
      )
  }
  return lines
}
