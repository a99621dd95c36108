/** Operator route: re-seal every stored credential under the first key of ENCRYPTION_KEYS. */
import { createRoute, z } from '@hono/zod-openapi'
import { createRouter } from '../lib/router'
import { errorResponses } from '../schemas/common'
import { rekeyStoredCredentials } from '../services/credential-rekeying'

const router = createRouter()

const RekeyResponse = z
  .object({
    keyId: z
      .string()
      .openapi({ description: 'The key every stored credential is now sealed under.' }),
    reencrypted: z.number().int(),
    alreadyCurrent: z.number().int(),
    changedMeanwhile: z.number().int().openapi({
      description: 'Rows changed by a writer during the run (already under the new key).',
    }),
    unreadable: z.number().int().openapi({
      description:
        'Credentials no listed key opens (sealed under a key already removed); left unchanged and logged by destination id.',
    }),
  })
  .openapi('EncryptionKeyRotation')

router.openapi(
  createRoute({
    method: 'post',
    path: '/v1/admin/encryption-key/rotate',
    tags: ['admin'],
    summary: 'Re-encrypt stored credentials under the current at-rest key',
    description:
      'To rotate the at-rest key: put the new key first in `ENCRYPTION_KEYS` (keeping the old ones after it), deploy, then call this. Every destination credential is opened with the key that sealed it and sealed again under the first key. Safe to repeat. Keep older keys listed while payloads or archives sealed under them are still kept.',
    responses: {
      200: {
        description: 'Done',
        content: { 'application/json': { schema: RekeyResponse } },
      },
      ...errorResponses(401),
    },
  }),
  async (c) => c.json(await rekeyStoredCredentials(c.env), 200),
)

export const adminEncryptionKeyRoutes = router
