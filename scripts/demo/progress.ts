/**
 * A progress bar for long runs on stderr: redrawn in place on a terminal, and a line at
 * each tenth of the way otherwise (so captured output stays short).
 */

export interface ProgressBar {
  update(done: number, note?: string): void
  finish(note?: string): void
}

const WIDTH = 30

export function progressBar(
  label: string,
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressBar {
  let lastTenth = -1
  let lastLine = ''
  const line = (done: number, note: string) => {
    const share = total > 0 ? Math.min(1, done / total) : 1
    const filled = Math.round(share * WIDTH)
    const bar = `${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}`
    return `${label} [${bar}] ${String(Math.floor(share * 100)).padStart(3)}% ${done}/${total}${note ? ` ${note}` : ''}`
  }
  return {
    update(done, note = '') {
      const next = line(done, note)
      if (stream.isTTY) {
        if (next !== lastLine) stream.write(`\r${next}\u001b[K`)
        lastLine = next
        return
      }
      const tenth = total > 0 ? Math.floor((done / total) * 10) : 10
      if (tenth > lastTenth) stream.write(`${next}\n`)
      lastTenth = Math.max(lastTenth, tenth)
    },
    finish(note = 'done') {
      const last = line(total, note)
      stream.write(stream.isTTY ? `\r${last}\u001b[K\n` : `${last}\n`)
    },
  }
}
