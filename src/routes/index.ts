/** Every route module, mounted in this order by `createApp`. One resource per file. */
import { adminApiKeyRoutes } from './admin-api-keys'
import { adminEncryptionKeyRoutes } from './admin-encryption-key'
import { adminOrganizationRoutes } from './admin-organizations'
import { alertRuleRoutes } from './alert-rules'
import { auditLogRoutes } from './audit-log'
import { deliveryRoutes } from './deliveries'
import { destinationRecoveryRoutes } from './destination-recovery'
import { destinationTestRoutes } from './destination-tests'
import { destinationRoutes } from './destinations'
import { docsRoutes } from './docs'
import { downloadRoutes } from './downloads'
import { healthRoutes } from './health'
import { metricsRoutes } from './metrics'
import { settingsRoutes } from './settings'

export const routeModules = [
  healthRoutes,
  adminOrganizationRoutes,
  adminApiKeyRoutes,
  adminEncryptionKeyRoutes,
  settingsRoutes,
  destinationRoutes,
  auditLogRoutes,
  docsRoutes,
  deliveryRoutes,
  destinationRecoveryRoutes,
  metricsRoutes,
  alertRuleRoutes,
  destinationTestRoutes,
  downloadRoutes,
]
