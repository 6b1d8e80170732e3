import { existsSync } from 'node:fs';
import type { SqlDatabase } from '@trellis/core';
import type { DeadLetterStore } from '@trellis/messaging';
import { PostgresDatabase, PostgresDeadLetterStore, PostgresSagaStore } from '@trellis/postgres';
import type { SagaStore } from '@trellis/saga';
import { SqliteDatabase, SqliteDeadLetterStore, SqliteSagaStore } from '@trellis/sqlite';

/** An opened store and the database to close afterwards. */
export interface OpenedStore<S> {
  store: S;
  close(): Promise<void>;
}

/** Which Trellis table a command needs and how to open its store on either backend. */
interface StoreSpec<S> {
  table: string;
  /** What the table holds, for the error message: `dead letters`, `sagas`. */
  what: string;
  postgres(db: PostgresDatabase): Promise<S>;
  sqlite(db: SqliteDatabase): Promise<S>;
}

/**
 * Opens the store of `target`: a `postgres://` / `postgresql://` URL, or the path of a SQLite
 * file. Never creates a database: a missing file, or a database without the spec's table, is an
 * error naming the target (password hidden).
 */
async function openStore<S>(target: string, spec: StoreSpec<S>): Promise<OpenedStore<S>> {
  const pg = /^postgres(ql)?:\/\//.test(target);
  if (!pg && !existsSync(target)) throw new Error(`No such SQLite file: ${target}`);
  const db = pg
    ? PostgresDatabase.connect(target, { max: 2, applicationName: 'trellis-cli' })
    : SqliteDatabase.open(target);
  try {
    const [row] = await (db as SqlDatabase).query<{ ok: unknown }>(
      pg
        ? 'SELECT to_regclass($1) IS NOT NULL AS ok'
        : "SELECT COUNT(*) > 0 AS ok FROM sqlite_master WHERE type = 'table' AND name = $1",
      [spec.table],
    );
    if (!row?.ok) throw new Error(`${redact(target)} has no Trellis ${spec.what} (table ${spec.table})`);
    const store = db instanceof PostgresDatabase ? await spec.postgres(db) : await spec.sqlite(db);
    return { store, close: () => db.close() };
  } catch (e) {
    await db.close();
    throw e;
  }
}

/** Opens the dead letters of `target` (the durable bus file, a service database, or PostgreSQL). */
export function openDeadLetters(target: string): Promise<OpenedStore<DeadLetterStore>> {
  return openStore<DeadLetterStore>(target, {
    table: 'trellis_dead_letters',
    what: 'dead letters',
    postgres: (db) => PostgresDeadLetterStore.create(db),
    sqlite: (db) => SqliteDeadLetterStore.create(db),
  });
}

/** Opens the sagas of `target` (a service's SQLite file or PostgreSQL). */
export function openSagas(target: string): Promise<OpenedStore<SagaStore>> {
  return openStore<SagaStore>(target, {
    table: 'trellis_sagas',
    what: 'sagas',
    postgres: (db) => PostgresSagaStore.create(db),
    sqlite: (db) => SqliteSagaStore.create(db),
  });
}

/** Hides a password in a connection URL before printing it. */
export function redact(target: string): string {
  return target.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
