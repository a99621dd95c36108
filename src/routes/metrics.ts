/**
 * Delivery metrics of the key's organization: `GET /v1/metrics` over a time range (the
 * seed's `getDeliveryMetrics`), and `GET /v1/metrics/prometheus` for scrapers. Counts come
 * from the per-minute roll-ups in D1; backlog is read live from the organization's object.
 */
import { createRoute, z } from '@hono/zod-openapi'
import { organizationStub } from '../durable-objects/organization-stub'
import { fieldError } from '../lib/errors'
import { createRouter } from '../lib/router'
import { scopedOrganization } from '../middleware/auth'
import { errorResponses, OrganizationIdSchema } from '../schemas/common'
import { DeliveryMetricsSchema, MetricsQuerySchema } from '../schemas/metrics'
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from '../services/metrics/prometheus'
import { readRollups } from '../services/metrics/query'
import { buildReport, GRANULARITY_MINUTES } from '../services/metrics/report'

const router = createRouter()
const tags = ['metrics']
const DAY_MS = 86_400_000
/** Points a time series may have, so a minute granularity over a year is refused, not computed. */
export const MAX_SERIES_POINTS = 1500

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/metrics',
    tags,
    summary: 'Delivery metrics over a time range',
    description:
      'The unit is one delivery to one destination. The range covers the whole UTC minutes that overlap [startDate, endDate). `successRate` counts final outcomes; latency counts attempts.',
    request: { query: MetricsQuerySchema },
    responses: {
      200: {
        description: 'Metrics',
        content: { 'application/json': { schema: DeliveryMetricsSchema } },
      },
      ...errorResponses(400, 401, 403),
    },
  }),
  async (c) => {
    const query = c.req.valid('query')
    const organizationId = scopedOrganization(c.get('organizationId'), query.organizationId)
    const endMs = query.endDate ? Date.parse(query.endDate) : Date.now()
    const startMs = query.startDate ? Date.parse(query.startDate) : endMs - DAY_MS
    if (endMs <= startMs)
      throw query.endDate
        ? fieldError('query.endDate', 'must be after startDate')
        : fieldError('query.startDate', 'must be before now when endDate is left out')
    const fromMinute = Math.floor(startMs / 60_000)
    const toMinute = Math.ceil(endMs / 60_000)
    const slotMinutes = GRANULARITY_MINUTES[query.granularity]
    const firstSlot = Math.floor(fromMinute / slotMinutes) * slotMinutes
    const points = Math.ceil((toMinute - firstSlot) / slotMinutes)
    if (points > MAX_SERIES_POINTS)
      throw fieldError(
        'query.granularity',
        `"${query.granularity}" over this range gives ${points} points; at most ${MAX_SERIES_POINTS}: choose a coarser granularity or a shorter range`,
      )

    const [sums, overview] = await Promise.all([
      readRollups(
        c.env.DB,
        {
          organizationId,
          fromMinute,
          toMinute,
          destinationId: query.destinationId,
          destinationType: query.destinationType,
        },
        slotMinutes,
      ),
      organizationStub(c.env, organizationId).destinationOverview(),
    ])
    const report = buildReport({
      ...sums,
      slotStarts: Array.from({ length: points }, (_, i) => firstSlot + i * slotMinutes),
      overview: overview.filter(
        (d) =>
          (query.destinationId === undefined || d.destinationId === query.destinationId) &&
          (query.destinationType === undefined || d.type === query.destinationType),
      ),
    })
    return c.json(
      {
        organizationId,
        startDate: new Date(fromMinute * 60_000).toISOString(),
        endDate: new Date(toMinute * 60_000).toISOString(),
        granularity: query.granularity,
        ...report,
      },
      200,
    )
  },
)

router.openapi(
  createRoute({
    method: 'get',
    path: '/v1/metrics/prometheus',
    tags,
    summary: 'Metrics in the Prometheus text format',
    description:
      "The key's organization only. Counters are cumulative since its first delivery; point a scrape job here with the API key as bearer token.",
    request: {
      query: z.object({
        organizationId: OrganizationIdSchema.optional().openapi({
          description: "Optional; when given it must be the API key's organization.",
        }),
      }),
    },
    responses: {
      200: {
        description: 'Text exposition format 0.0.4',
        content: { [PROMETHEUS_CONTENT_TYPE]: { schema: z.string() } },
      },
      ...errorResponses(400, 401, 403),
    },
  }),
  async (c) => {
    const query = c.req.valid('query')
    const organizationId = scopedOrganization(c.get('organizationId'), query.organizationId)
    const [sums, overview] = await Promise.all([
      readRollups(
        c.env.DB,
        { organizationId, fromMinute: 0, toMinute: Number.MAX_SAFE_INTEGER },
        null,
      ),
      organizationStub(c.env, organizationId).destinationOverview(),
    ])
    return c.text(renderPrometheus(organizationId, sums.destinations, overview), 200, {
      'content-type': PROMETHEUS_CONTENT_TYPE,
    })
  },
)

export const metricsRoutes = router
