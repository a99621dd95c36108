import type { D1Migration } from 'cloudflare:test'
import type { ServiceEnv } from '../../src/env'

declare module 'cloudflare:workers' {
  interface ProvidedEnv extends ServiceEnv {
    TEST_MIGRATIONS: D1Migration[]
  }
}
