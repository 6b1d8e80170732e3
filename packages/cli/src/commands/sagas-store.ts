import { existsSync } from 'node:fs';
import type { SqlDatabase } from '@trellis/core';
import { PostgresDatabase, PostgresSagaStore } from '@trellis/postgres';
import type { SagaStore } from '@trellis/saga';
import { SqliteDatabase, SqliteSagaStore } from '@trellis/sqlite';
import { redact } from './dead-letters-store.js';

/** An opened saga store and the database to close afterwards. */
export interface OpenedSagaStore {
  store: SagaStore;
  close(): Promise<void>;
}

/**
 * Opens the sagas of `target`: a `postgres://` / `postgresql://` URL or a SQLite file. Never
 * creates anything: a missing file, or a database without `trellis_sagas`, is an error naming
 * the target (password hidden).
 */
export async function openSagas(target: string): Promise<OpenedSagaStore> {
  if (/^postgres(ql)?:\/\//.test(target)) {
    const db = PostgresDatabase.connect(target, { max: 2, applicationName: 'trellis-cli' });
    try {
      await requireTable(db, "SELECT to_regclass('trellis_sagas') IS NOT NULL AS ok", target);
      return { store: await PostgresSagaStore.create(db), close: () => db.close() };
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
      "SELECT COUNT(*) > 0 AS ok FROM sqlite_master WHERE type = 'table' AND name = 'trellis_sagas'",
      target,
    );
    return { store: await SqliteSagaStore.create(db), close: () => db.close() };
  } catch (e) {
    await db.close();
    throw e;
  }
}

async function requireTable(db: SqlDatabase, sql: string, target: string): Promise<void> {
  const [row] = await db.query<{ ok: unknown }>(sql);
  if (!row?.ok) throw new Error(`${redact(target)} has no Trellis sagas (table trellis_sagas)`);
}
