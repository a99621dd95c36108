/**
 * A CPU profile of the service's isolate, taken through the inspector `wrangler dev`
 * exposes (Chrome DevTools protocol: Profiler.start / Profiler.stop), then attributed to
 * the part of the service that did the work. Each sample is charged to the innermost
 * frame of the service's own code that decides the role: `src/routes`, `src/middleware`,
 * `src/app.ts` and `src/services/ingest.ts` are the Worker; `src/durable-objects` the
 * organization's object; `src/queues` and `src/handlers` the queue consumer;
 * `src/services/metrics` the metrics writes. Shared code (libraries, `src/lib`,
 * `src/delivery`, schemas) counts for whoever called it. Modules are found from the
 * `// path` comments esbuild writes into the development bundle.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

interface CallFrame {
  functionName: string
  scriptId: string
  url: string
  lineNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  /** Sampled seconds in which the isolate ran JavaScript (or native code called from it). */
  busySeconds: number
  /** Share of busy time by role. */
  byRole: Record<string, number>
  /** Modules with the most self time, share of busy time. */
  topModules: { module: string; share: number }[]
  topFunctions: { name: string; module: string; share: number }[]
}

class Inspector {
  private next = 1
  private readonly pending = new Map<number, (result: unknown) => void>()

  private readonly socket: WebSocket

  private constructor(socket: WebSocket) {
    this.socket = socket
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown }
      if (message.id !== undefined) this.pending.get(message.id)?.(message.result)
    })
  }

  /** Connects to the Worker's isolate; a busy runtime may refuse the first tries. */
  static async connect(port: number, tries = 5): Promise<Inspector> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await Inspector.open(port)
      } catch (error) {
        if (attempt >= tries) throw error
        await new Promise((resolve) => setTimeout(resolve, 2000))
      }
    }
  }

  private static async open(port: number): Promise<Inspector> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as {
      webSocketDebuggerUrl: string
    }[]
    const url = targets[0]?.webSocketDebuggerUrl
    if (!url) throw new Error('the inspector lists no target')
    // The inspector proxy only admits DevTools origins; Node's WebSocket takes extra headers.
    const socket = new WebSocket(url, {
      headers: { origin: 'http://127.0.0.1' },
    } as unknown as string[])
    await new Promise((resolve, reject) => {
      socket.addEventListener('open', resolve, { once: true })
      socket.addEventListener(
        'error',
        (event) =>
          reject(new Error(`inspector connection failed: ${(event as ErrorEvent).message}`)),
        { once: true },
      )
    })
    return new Inspector(socket)
  }

  send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.next++
    return new Promise<T>((resolve) => {
      this.pending.set(id, (result) => resolve(result as T))
      this.socket.send(JSON.stringify({ id, method, params }))
    })
  }

  close(): void {
    this.socket.close()
  }
}

/** The V8 heap of the Worker's isolate (the Worker and its Durable Objects), in bytes. */
export async function isolateHeap(
  inspectorPort: number,
): Promise<{ usedBytes: number; totalBytes: number }> {
  const inspector = await Inspector.connect(inspectorPort)
  try {
    const usage = await inspector.send<{ usedSize: number; totalSize: number }>(
      'Runtime.getHeapUsage',
    )
    return { usedBytes: usage.usedSize, totalBytes: usage.totalSize }
  } finally {
    inspector.close()
  }
}

export interface RunningProfile {
  stop(): Promise<ProfileSummary>
}

export async function startProfile(inspectorPort: number): Promise<RunningProfile> {
  const inspector = await Inspector.connect(inspectorPort)
  await inspector.send('Profiler.enable')
  await inspector.send('Profiler.setSamplingInterval', { interval: 500 })
  await inspector.send('Profiler.start')
  return {
    async stop() {
      const { profile } = await inspector.send<{ profile: CpuProfile }>('Profiler.stop')
      const sources = new Map<string, string>()
      await inspector.send('Debugger.enable')
      for (const node of profile.nodes) {
        const { scriptId, url } = node.callFrame
        if (!url || sources.has(url)) continue
        sources.set(url, await scriptSource(inspector, scriptId, url))
      }
      inspector.close()
      return summarize(profile, sources)
    },
  }
}

async function scriptSource(inspector: Inspector, scriptId: string, url: string): Promise<string> {
  if (url.startsWith('file:')) {
    try {
      return readFileSync(fileURLToPath(url), 'utf8')
    } catch {
      // Fall back to asking the runtime.
    }
  }
  const result = await inspector.send<{ scriptSource?: string }>('Debugger.getScriptSource', {
    scriptId,
  })
  return result?.scriptSource ?? ''
}

/** Line index → module path, from the `// path/to/module.ts` comments of an esbuild bundle. */
function moduleIndex(source: string): { line: number; module: string }[] {
  const index: { line: number; module: string }[] = []
  source.split('\n').forEach((text, line) => {
    const match = /^\/\/ ((?:src|node_modules|\.\.\/)\S*\.(?:ts|js|mjs|cjs))$/.exec(text)
    if (match) index.push({ line, module: match[1] as string })
  })
  return index
}

function moduleAt(index: { line: number; module: string }[], line: number): string {
  let low = 0
  let high = index.length - 1
  let found = '(bundle)'
  while (low <= high) {
    const mid = (low + high) >> 1
    const entry = index[mid] as { line: number; module: string }
    if (entry.line <= line) {
      found = entry.module
      low = mid + 1
    } else high = mid - 1
  }
  return found
}

function roleOf(module: string): string | null {
  if (
    module.startsWith('src/routes/') ||
    module.startsWith('src/middleware/') ||
    module === 'src/app.ts' ||
    module === 'src/services/ingest.ts'
  )
    return 'worker'
  if (module.startsWith('src/durable-objects/')) return 'object'
  if (module.startsWith('src/queues/') || module.startsWith('src/handlers/')) return 'consumer'
  if (module.startsWith('src/services/metrics/')) return 'metrics'
  if (module.startsWith('src/scheduled/') || module.startsWith('src/services/alerts/'))
    return 'cron'
  return null
}

function summarize(profile: CpuProfile, sources: Map<string, string>): ProfileSummary {
  const indexes = new Map([...sources].map(([url, source]) => [url, moduleIndex(source)]))
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id)
  const moduleOf = (node: ProfileNode) => {
    const { url, lineNumber, functionName } = node.callFrame
    if (!url) return `(${functionName || 'native'})`
    const index = indexes.get(url)
    return index && index.length > 0 ? moduleAt(index, lineNumber) : url
  }
  const roleCache = new Map<number, string>()
  const roleOfNode = (id: number): string => {
    const cached = roleCache.get(id)
    if (cached) return cached
    let current: number | undefined = id
    let role = 'runtime'
    while (current !== undefined) {
      const node = nodes.get(current) as ProfileNode
      const found = roleOf(moduleOf(node))
      if (found) {
        role = found
        break
      }
      current = parent.get(current)
    }
    roleCache.set(id, role)
    return role
  }

  const selfUs = new Map<number, number>()
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  let busy = 0
  const roles: Record<string, number> = {}
  const modules = new Map<string, number>()
  const functions = new Map<string, { name: string; module: string; us: number }>()
  for (const [id, us] of selfUs) {
    const node = nodes.get(id) as ProfileNode
    if (node.callFrame.functionName === '(idle)') continue
    busy += us
    const role = roleOfNode(id)
    roles[role] = (roles[role] ?? 0) + us
    const module = moduleOf(node)
    modules.set(module, (modules.get(module) ?? 0) + us)
    const name = node.callFrame.functionName || '(anonymous)'
    const key = `${module}:${name}`
    const entry = functions.get(key) ?? { name, module, us: 0 }
    entry.us += us
    functions.set(key, entry)
  }
  const share = (us: number) => Math.round((us / Math.max(busy, 1)) * 1000) / 1000
  return {
    busySeconds: Math.round(busy / 10_000) / 100,
    byRole: Object.fromEntries(
      Object.entries(roles)
        .sort((a, b) => b[1] - a[1])
        .map(([role, us]) => [role, share(us)]),
    ),
    topModules: [...modules]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([module, us]) => ({ module, share: share(us) })),
    topFunctions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, 12)
      .map(({ name, module, us }) => ({ name, module, share: share(us) })),
  }
}
