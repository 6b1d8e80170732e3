/**
 * Schema set-up for the services' own tables. On PostgreSQL several replicas may start at the
 * same moment, and two concurrent `CREATE TABLE IF NOT EXISTS` can still collide; an advisory
 * lock per schema name serialises them. On SQLite the transaction alone does it.
 */
import type { SqlDatabase } from '@trellis/core';

/**
 * Runs `statements` (idempotent DDL) in one transaction, serialised across processes.
 *
 * @example
 * ```ts
 * await migrate(db, 'catalog', ['CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY)']);
 * ```
 */
export async function migrate(db: SqlDatabase, name: string, statements: readonly string[]): Promise<void> {
  await db.transaction(async (tx) => {
    if (tx.dialect === 'postgres') await tx.execute('SELECT pg_advisory_xact_lock(hashtext($1))', [name]);
    for (const statement of statements) await tx.execute(statement);
  });
}
