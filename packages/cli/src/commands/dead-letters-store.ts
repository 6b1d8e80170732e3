import { existsSync } from 'node:fs';
import type { SqlDatabase } from '@trellis/core';
import type { DeadLetterStore } from '@trellis/messaging';
import { PostgresDatabase, PostgresDeadLetterStore } from '@trellis/postgres';
import { SqliteDatabase, SqliteDeadLetterStore } from '@trellis/sqlite';

/** An opened dead-letter store and the database to close afterwards. */
export interface OpenedStore {
  store: DeadLetterStore;
  close(): Promise<void>;
}

/**
 * Opens the dead letters of `target`: a `postgres://` / `postgresql://` URL, or the path of a
 * SQLite file (the durable bus file, or a service database). Never creates a database: a
 * missing file or a database without Trellis dead letters is an error naming the target.
 */
export async function openDeadLetters(target: string): Promise<OpenedStore> {
  if (/^postgres(ql)?:\/\//.test(target)) {
    const db = PostgresDatabase.connect(target, { max: 2, applicationName: 'trellis-cli' });
    try {
      await requireTable(db, "SELECT to_regclass('trellis_dead_letters') IS NOT NULL AS ok", target);
      return { store: await PostgresDeadLetterStore.create(db), close: () => db.close() };
    } catch (e) {
      await db.close();
      throw e;
    }
  }
  if (!existsSync(target)) throw new Error(`No such SQLite file: ${target}`);
  const db = SqliteDatabase.open(target);
  try {
    await requireTable(
      db,
      "SELECT COUNT(*) > 0 AS ok FROM sqlite_master WHERE type = 'table' AND name = 'trellis_dead_letters'",
      target,
    );
    return { store: await SqliteDeadLetterStore.create(db), close: () => db.close() };
  } catch (e) {
    await db.close();
    throw e;
  }
}

async function requireTable(db: SqlDatabase, sql: string, target: string): Promise<void> {
  const [row] = await db.query<{ ok: unknown }>(sql);
  if (!row?.ok) throw new Error(`${redact(target)} has no Trellis dead letters (table trellis_dead_letters)`);
}

/** Hides a password in a connection URL before printing it. */
export function redact(target: string): string {
  return target.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
