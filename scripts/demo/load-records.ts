/** Reads the demo's records from `data/` (Node): every file of each source, in name order. */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type DemoRecord, recordsFromFile, SOURCES } from './records.ts'

export function loadRecords(dataDirectory: string): DemoRecord[] {
  return Object.values(SOURCES).flatMap((source) =>
    readdirSync(join(dataDirectory, source.folder))
      .filter((name) => name.endsWith('.json') || name.endsWith('.jsonl'))
      .sort()
      .flatMap((name) => {
        const file = `${source.folder}${name}`
        return recordsFromFile(file, readFileSync(join(dataDirectory, file), 'utf8'))
      }),
  )
}
