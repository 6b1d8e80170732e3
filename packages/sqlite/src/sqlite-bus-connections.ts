import { resolve } from 'node:path';
import { SqliteDatabase, type SqliteDatabaseOptions } from './database.js';

/**
 * Connections of the SQLite buses in this process. Buses opened on the same file share one
 * connection (two connections of one thread could wait on each other's write lock: SQLite's
 * busy wait blocks the thread), and buses on one connection wake each other after commits
 * (`PRAGMA data_version` only reports other connections' commits).
 */

/** Anything that can be woken after a commit on its connection. */
export interface Wakeable {
  wakeFor(topics: readonly string[]): void;
  wakeAll(): void;
}

/** The buses of this process on each connection. */
const peers = new WeakMap<SqliteDatabase, Set<Wakeable>>();

export function peersOf(db: SqliteDatabase): Set<Wakeable> {
  let set = peers.get(db);
  if (!set) {
    set = new Set();
    peers.set(db, set);
  }
  return set;
}

/** Connections opened by buses in this process, one per file, reference-counted. */
const shared = new Map<string, { db: SqliteDatabase; refs: number }>();

export function acquire(file: string, options: SqliteDatabaseOptions | undefined): SqliteDatabase {
  const key = file === ':memory:' ? `:memory:${shared.size}` : resolve(file);
  const entry = shared.get(key);
  if (entry) {
    entry.refs++;
    return entry.db;
  }
  const db = SqliteDatabase.open(file, options);
  shared.set(key, { db, refs: 1 });
  return db;
}

export async function release(db: SqliteDatabase): Promise<void> {
  for (const [key, entry] of shared) {
    if (entry.db !== db) continue;
    if (--entry.refs > 0) return;
    shared.delete(key);
    await db.close();
    return;
  }
}
