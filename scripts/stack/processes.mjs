/**
 * Child processes of the local stack. Each runs in its own process group (a detached
 * spawn), so that stopping it reaches its own children too (wrangler starts workerd),
 * and its output is relayed line by line under a short tag.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { createInterface } from 'node:readline'

/** Relays each line of a stream to `write`, prefixed with the tag. */
function relay(stream, tag, write) {
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) =>
    write(`[${tag}] ${line}\n`),
  )
}

/**
 * Starts `command` in a new process group with stdin closed (so no tool waits for an
 * answer at a prompt). Returns the child and a promise of its exit code.
 */
export function spawnGroup(tag, command, args, options = {}) {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  relay(child.stdout, tag, (line) => process.stdout.write(line))
  relay(child.stderr, tag, (line) => process.stderr.write(line))
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
    child.on('error', (error) => {
      process.stderr.write(`[${tag}] could not start ${command}: ${error.message}\n`)
      resolve(127)
    })
  })
  return { tag, child, exited }
}

/** Sends a signal to a whole process group; false when the group is already gone. */
export function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal)
    return true
  } catch {
    return false
  }
}

/** Whether any process of the group is still alive. */
export function groupAlive(pid) {
  return signalGroup(pid, 0)
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Stops process groups: SIGTERM to each at once, then SIGKILL to whatever is left after
 * `graceMs`. The grace stays short because an outside supervisor may itself send
 * SIGKILL a second after its SIGTERM.
 */
export async function stopGroups(pids, graceMs = 600) {
  const live = pids.filter((pid) => signalGroup(pid, 'SIGTERM'))
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline && live.some(groupAlive)) await sleep(50)
  for (const pid of live) if (groupAlive(pid)) signalGroup(pid, 'SIGKILL')
}

/**
 * Records the stack's process groups in `path`, with the pid of the process that owns
 * them, so that a later start can stop what a run killed without warning (SIGKILL leaves
 * detached groups running) left behind.
 */
export function recordGroups(path, pids) {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify({ owner: process.pid, pids })}\n`)
}

/** Removes the record when the groups it lists have been stopped. */
export function clearRecord(path) {
  rmSync(path, { force: true })
}

/**
 * Stops the groups a previous run recorded, if that run's owner process is gone and the
 * groups still run wrangler or workerd (a recycled pid of some other program is left
 * alone). A live owner means another `npm start` of this folder is running: its groups
 * are left to it. Returns the pids stopped.
 */
export async function reapRecordedGroups(path) {
  if (!existsSync(path)) return []
  let record = {}
  try {
    record = JSON.parse(readFileSync(path, 'utf8'))
  } catch {
    record = {}
  }
  if (Number.isInteger(record.owner) && commandOf(record.owner).includes('start.mjs')) return []
  const pids = Array.isArray(record.pids) ? record.pids : []
  const ours = pids.filter(
    (pid) =>
      Number.isInteger(pid) && groupAlive(pid) && /wrangler|workerd/.test(groupCommands(pid)),
  )
  await stopGroups(ours)
  rmSync(path, { force: true })
  return ours
}

/** The command lines of every process (`ps` on Linux and macOS), with their group ids. */
function processTable() {
  const ps = spawnSync('ps', ['-e', '-o', 'pid=,pgid=,args='], { encoding: 'utf8' })
  return (ps.stdout ?? '').split('\n').map((line) => {
    const [pid, pgid, ...args] = line.trim().split(/\s+/)
    return { pid: Number(pid), pgid: Number(pgid), args: args.join(' ') }
  })
}

function commandOf(pid) {
  return processTable().find((row) => row.pid === pid)?.args ?? ''
}

function groupCommands(pgid) {
  return processTable()
    .filter((row) => row.pgid === pgid)
    .map((row) => row.args)
    .join('\n')
}
