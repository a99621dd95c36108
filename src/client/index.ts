/**
 * The TypeScript client of the audit delivery service (`audit-delivery-service/client`).
 * Fetch only: it runs on Node 22+ and in Workers.
 */
export {
  BatchDeliveryProcessor,
  type BatchDeliveryProcessorOptions,
  type BatchItemReceipt,
  type BatchProcessorStats,
  MAX_BATCH_SIZE,
} from './batch-processor.ts'
export {
  CLIENT_ERROR_CODES,
  type ClientErrorCode,
  DeliveryServiceError,
} from './errors.ts'
export type { FetchLike } from './http.ts'
export {
  createDeliveryMetricsCollector,
  type DeliveryMetricsCollector,
  type DeliveryMetricsCollectorOptions,
  type DeliveryMetricsSnapshot,
  type MetricsInterval,
} from './metrics-collector.ts'
export {
  createDeliveryPerformanceMonitor,
  type DeliveryPerformanceMonitor,
  type DeliveryPerformanceMonitorOptions,
  type PerformanceTimer,
  percentile,
  summarize,
  type TimingSummary,
} from './performance-monitor.ts'
export {
  createDeliveryService,
  type DeliveryService,
  type DeliveryServiceConfig,
  type DeliveryServiceOptions,
  isSettled,
  type ScopeOptions,
  type WaitOptions,
} from './service.ts'
export type * from './types.ts'
export {
  type VerifyWebhookInput,
  verifyWebhookSignature,
  type WebhookEnvelope,
  WebhookVerificationError,
} from './webhook-signature.ts'
