/**
 * The client's request and response types, taken from the service's own schemas so that
 * the client and the routes cannot drift: `z.input` for what a caller sends (defaults
 * optional), `z.infer` for what the service answers.
 */
import type { z } from '@hono/zod-openapi'
import type { auditLog, downloads } from '../db/schema.ts'
import type {
  AlertRuleSchema,
  CreateAlertRuleSchema,
  UpdateAlertRuleSchema,
} from '../schemas/alert-rule.ts'
import type { PaginationQuerySchema } from '../schemas/common.ts'
import type {
  AcceptedDeliverySchema,
  AttemptSchema,
  BatchResultSchema,
  DeliverSchema,
  DeliverySchema,
  DeliveryStatus,
} from '../schemas/delivery.ts'
import type {
  CreateDestinationSchema,
  DestinationSchema,
  DestinationType,
  UpdateDestinationSchema,
} from '../schemas/destination.ts'
import type {
  DestinationHealthSchema,
  DestinationTestResultSchema,
  RequeueResultSchema,
} from '../schemas/destination-operations.ts'
import type { DeliveryMetricsSchema, MetricsQuerySchema } from '../schemas/metrics.ts'
import type {
  ApiKeySchema,
  CreateOrganizationSchema,
  IssueApiKeySchema,
  IssuedApiKeySchema,
  OrganizationSchema,
  UpdateOrganizationSchema,
} from '../schemas/organization.ts'
import type { SettingsSchema } from '../schemas/settings.ts'

export type { DeliveryStatus, DestinationType }

/** The seed's `deliver` input. */
export type DeliverRequest = z.input<typeof DeliverSchema>
/** The 202 answer, plus whether it replays an earlier request with the same idempotency key. */
export type DeliveryReceipt = z.infer<typeof AcceptedDeliverySchema> & { replayed: boolean }
export type BatchResult = z.infer<typeof BatchResultSchema>
export type BatchItemResult = BatchResult['results'][number]
/** A delivery's overall status and each destination's. */
export type Delivery = z.infer<typeof DeliverySchema>
export type DeliveryTarget = Delivery['destinations'][number]
export type Attempt = z.infer<typeof AttemptSchema>

/** The seed's `createDestination` input. */
export type CreateDestinationRequest = z.input<typeof CreateDestinationSchema>
/** A JSON Merge Patch over the create body. */
export type UpdateDestinationRequest = z.input<typeof UpdateDestinationSchema>
export type Destination = z.infer<typeof DestinationSchema>
/** `GET /v1/destinations/:id/health`: circuit, success rate and backlog. */
export type DestinationHealth = z.infer<typeof DestinationHealthSchema>

export type Settings = z.infer<typeof SettingsSchema>
/** Settings as a caller writes them: every field optional, defaults filled by the service. */
export type SettingsInput = z.input<typeof SettingsSchema>
export interface OrganizationSettings {
  organizationId: string
  settings: Settings
}

export type Organization = z.infer<typeof OrganizationSchema>
export type CreateOrganizationRequest = z.input<typeof CreateOrganizationSchema>
export type UpdateOrganizationRequest = z.input<typeof UpdateOrganizationSchema>
export type ApiKey = z.infer<typeof ApiKeySchema>
export type IssuedApiKey = z.infer<typeof IssuedApiKeySchema>
export type IssueApiKeyRequest = z.input<typeof IssueApiKeySchema>

/** One entry of the service's own audit trail (before and after with secrets masked). */
export type AuditEntry = Omit<typeof auditLog.$inferSelect, 'before' | 'after'> & {
  before: unknown
  after: unknown
}

/** `POST /v1/destinations/:id/test`: what the destination answered to a probe. */
export type DestinationTestResult = z.infer<typeof DestinationTestResultSchema>

/** The seed's `getDeliveryMetrics` input: organization, time range, slot size, filters. */
export type DeliveryMetricsQuery = z.input<typeof MetricsQuerySchema>
export type DeliveryMetrics = z.infer<typeof DeliveryMetricsSchema>

export type CreateAlertRuleRequest = z.input<typeof CreateAlertRuleSchema>
export type UpdateAlertRuleRequest = z.input<typeof UpdateAlertRuleSchema>
export type AlertRule = z.infer<typeof AlertRuleSchema>
export interface AlertRulePage {
  alertRules: AlertRule[]
  nextCursor: string | null
}
export type ListAlertRulesQuery = Pagination & Scope

/** What revoking a download link answers. */
export type RevokedDownload = Pick<
  typeof downloads.$inferSelect,
  'id' | 'deliveryId' | 'destinationId' | 'expiresAt' | 'maxDownloads' | 'downloadCount'
> & { revokedAt: string }

/** What `recover` and `replay` answer: how many deliveries were queued again. */
export type RequeueResult = z.infer<typeof RequeueResultSchema>

type Pagination = Partial<z.infer<typeof PaginationQuerySchema>>

/** Scopes a call to one organization; with `apiKeys` it also picks the key. */
export interface Scope {
  organizationId?: string | undefined
}

export type ListDestinationsQuery = Pagination &
  Scope & {
    type?: DestinationType
    /** Exact label. */
    label?: string
    disabled?: boolean
    isDefault?: boolean
  }

export type ListDeliveriesQuery = Pagination &
  Scope & {
    status?: DeliveryStatus
    destinationId?: string
    correlationId?: string
    tag?: string
    /** Payload type. */
    type?: string
    startDate?: string
    endDate?: string
  }

export type AuditLogQuery = Pagination &
  Scope & {
    /** `destination`, `api_key`, `settings`, `organization`, `alert_rule`, `delivery` or `download`. */
    resourceType?: string
    resourceId?: string
    startDate?: string
    endDate?: string
  }

export type ListOrganizationsQuery = Pagination & { status?: Organization['status'] }

export interface DestinationPage {
  destinations: Destination[]
  nextCursor: string | null
}
export interface DeliveryPage {
  deliveries: Delivery[]
  nextCursor: string | null
}
export interface AuditPage {
  entries: AuditEntry[]
  nextCursor: string | null
}
export interface OrganizationPage {
  organizations: Organization[]
  nextCursor: string | null
}
