/**
 * Multi-row INSERTs within the platform's limit of 100 bound parameters per statement
 * (Durable Object SQLite limits), so writing many rows costs a few statements, not one each.
 */
const MAX_BOUND_PARAMETERS = 100

/**
 * Inserts `rows` (each one value per column, in order) into `table`, as many rows per
 * statement as the parameter limit allows. `conflict` is appended to each statement.
 */
export function insertRows(
  sql: SqlStorage,
  table: string,
  columns: readonly string[],
  rows: readonly SqlStorageValue[][],
  conflict = '',
): void {
  const perStatement = Math.floor(MAX_BOUND_PARAMETERS / columns.length)
  const tuple = `(${columns.map(() => '?').join(', ')})`
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement)
    sql.exec(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')} ${conflict}`,
      ...chunk.flat(),
    )
  }
}
