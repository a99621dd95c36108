import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

// Tests run inside workerd with the Worker's own wrangler.toml. Secrets come from here,
// never from a developer's .dev.vars, and loopback destinations are allowed because the
// test peers (webhook receivers, S3, SMTP, provider stand-ins) listen on 127.0.0.1.
export default defineConfig(async () => {
  const migrations = await readD1Migrations('./migrations')
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        remoteBindings: false,
        miniflare: {
          bindings: {
            ADMIN_TOKEN: 'test-admin-token',
            ENCRYPTION_KEYS: 'k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
            ALLOW_LOOPBACK_DESTINATIONS: 'true',
            TEST_MIGRATIONS: migrations,
          },
          queueConsumers: {
            'audit-deliveries': { maxBatchTimeout: 0.05 },
            'audit-deliveries-priority': { maxBatchTimeout: 0.05 },
            'audit-deliveries-dlq': { maxBatchTimeout: 0.05 },
          },
        },
      }),
    ],
    test: {
      setupFiles: ['./test/support/apply-migrations.ts'],
      globalSetup: ['./test/support/global-setup.ts'],
      silent: 'passed-only' as const,
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  }
})
