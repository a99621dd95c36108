/**
 * Child processes of the benchmark and what the kernel says about them. Each child runs
 * in its own process group so that stopping it also stops the workerd processes wrangler
 * starts; memory and CPU come from /proc (Linux).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, readdirSync, readFileSync } from 'node:fs'

export interface Group {
  child: ChildProcess
  exited: Promise<number>
  /** Everything the child wrote, for error messages. */
  output: () => string
}

/** Starts a command in a new process group, keeping the last 64 KB of its output. */
export function spawnGroup(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; logFile?: string },
): Group {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const log = options.logFile ? createWriteStream(options.logFile) : null
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-65_536)
    log?.write(chunk)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
    child.on('error', () => resolve(127))
  })
  return { child, exited, output: () => output }
}

/** SIGTERM to the group, SIGKILL to what is left after `graceMs`. */
export async function stopGroup(group: Group, graceMs = 3000): Promise<void> {
  const pid = group.child.pid
  if (pid === undefined) return
  const signal = (name: NodeJS.Signals | 0) => {
    try {
      process.kill(-pid, name)
      return true
    } catch {
      return false
    }
  }
  if (!signal('SIGTERM')) return
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline && signal(0)) await new Promise((r) => setTimeout(r, 100))
  signal('SIGKILL')
}

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may hold spaces; fields after the closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[1])
  } catch {
    return null
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
  } catch {
    return ''
  }
}

/** The command line of a process, arguments joined by spaces. */
export function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')
  } catch {
    return ''
  }
}

/** Pids of the processes named `name` among the descendants of `root`. */
export function descendantsNamed(root: number, name: string): number[] {
  return descendants(root).filter((pid) => commandOf(pid) === name)
}

/** Pids of every descendant of `root`. */
export function descendants(root: number): number[] {
  const pids = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
  const isUnder = (pid: number) => {
    let current: number | null = pid
    for (let depth = 0; current !== null && current > 1 && depth < 20; depth++) {
      if (current === root) return true
      current = parentOf(current)
    }
    return false
  }
  return pids.filter((pid) => pid !== root && isUnder(pid))
}

/**
 * Resident memory of a process in bytes (null once it is gone): the total, the kernel's
 * high-water mark, and the split into anonymous memory (heaps), mapped files and shared
 * memory (tmpfs files the process maps, such as SQLite databases kept on /dev/shm).
 */
export function memoryOf(
  pid: number,
): { rss: number; peak: number; anon: number; file: number; shmem: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024
    return {
      rss: kb('VmRSS'),
      peak: kb('VmHWM'),
      anon: kb('RssAnon'),
      file: kb('RssFile'),
      shmem: kb('RssShmem'),
    }
  } catch {
    return null
  }
}

/** CPU time a process has used so far (user + system), in seconds. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command name).
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return 0
  }
}
