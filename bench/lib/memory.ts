/**
 * Memory and CPU of the runtime during a run: every `intervalMs` the resident memory of
 * each workerd process `wrangler dev` started is read from /proc. Reports the peak of
 * their sum (what the machine had to hold at once), each process's own peak (VmHWM) by
 * its role, and the CPU seconds they used between `start` and `stop`.
 */
import { cpuSecondsOf, memoryOf } from './processes.ts'

export interface RuntimeUsage {
  /** Highest sum of resident memory over all runtime processes, sampled. */
  peakTotalBytes: number
  /** That peak split into anonymous memory, mapped files and shared memory. */
  atPeak: { anonBytes: number; fileBytes: number; shmemBytes: number }
  /** Each process's own peak resident memory (kernel's high-water mark), by role. */
  peakByRoleBytes: Record<string, number>
  /** CPU seconds used by the runtime processes while sampling. */
  cpuSeconds: number
  wallSeconds: number
}

export interface UsageSampler {
  stop(): RuntimeUsage
}

/** Samples `processes` (the runtime's, each with a role such as "workerd: proxy"). */
export function sampleRuntime(
  processes: () => { role: string; pid: number }[],
  intervalMs = 250,
): UsageSampler {
  const started = performance.now()
  const pids = () => processes().map(({ pid }) => pid)
  const roles = new Map<number, string>()
  const cpuAtStart = new Map(pids().map((pid) => [pid, cpuSecondsOf(pid)]))
  let peakTotal = 0
  let atPeak = { anonBytes: 0, fileBytes: 0, shmemBytes: 0 }
  const peaks = new Map<number, number>()
  const sample = () => {
    const now = { total: 0, anonBytes: 0, fileBytes: 0, shmemBytes: 0 }
    for (const { role, pid } of processes()) {
      roles.set(pid, role)
      const memory = memoryOf(pid)
      if (!memory) continue
      now.total += memory.rss
      now.anonBytes += memory.anon
      now.fileBytes += memory.file
      now.shmemBytes += memory.shmem
      peaks.set(pid, Math.max(peaks.get(pid) ?? 0, memory.peak))
    }
    if (now.total > peakTotal) {
      peakTotal = now.total
      atPeak = { anonBytes: now.anonBytes, fileBytes: now.fileBytes, shmemBytes: now.shmemBytes }
    }
  }
  sample()
  const timer = setInterval(sample, intervalMs)
  return {
    stop() {
      clearInterval(timer)
      sample()
      let cpu = 0
      for (const pid of pids()) cpu += cpuSecondsOf(pid) - (cpuAtStart.get(pid) ?? 0)
      return {
        peakTotalBytes: peakTotal,
        atPeak,
        peakByRoleBytes: Object.fromEntries(
          [...peaks].map(([pid, bytes]) => [roles.get(pid) ?? String(pid), bytes]),
        ),
        cpuSeconds: Math.round(cpu * 100) / 100,
        wallSeconds: Math.round((performance.now() - started) / 10) / 100,
      }
    },
  }
}
