import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SqlDatabase, SqlTransaction } from '@trellis/core';
import BetterSqlite3 from 'better-sqlite3';
import { rewritePlaceholders } from './placeholders.js';

/** Options for {@link SqliteDatabase}. */
export interface SqliteDatabaseOptions {
  /**
   * `NORMAL` (default) is durable against process crashes in WAL mode and loses at most the
   * last transactions on power loss; `FULL` survives power loss at a throughput cost.
   */
  synchronous?: 'OFF' | 'NORMAL' | 'FULL';
  /** How long a writer waits for another process's lock before `SQLITE_BUSY`. */
  busyTimeoutMs?: number;
}

type Statement = BetterSqlite3.Statement<unknown[], unknown>;
interface Prepared {
  stmt: Statement;
  order: number[];
}

const MAX_CACHED_STATEMENTS = 500;

/** Which database's transaction the current async context is inside, to catch self-deadlock. */
const insideTransaction = new AsyncLocalStorage<SqliteDatabase>();

/**
 * The SQLite unit of work over better-sqlite3: one connection per database file (WAL),
 * prepared statements cached and reused, and async transactions serialised by a queue.
 *
 * Why a queue: better-sqlite3 is synchronous, but Trellis transactions are async functions
 * (a handler may await between statements). On a single connection, a statement issued
 * from elsewhere while a transaction is open would see, or worse join, its uncommitted
 * writes; so every statement and transaction takes its turn.
 *
 * @example
 * ```ts
 * const db = SqliteDatabase.open('./data/orders.db');
 * await db.transaction(async (tx) => {
 *   await tx.execute('INSERT INTO orders (id) VALUES ($1)', [id]);
 * });
 * ```
 */
export class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const;
  /** The underlying better-sqlite3 connection, for synchronous hot paths and migrations. */
  readonly raw: BetterSqlite3.Database;
  private readonly cache = new Map<string, Prepared>();
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(raw: BetterSqlite3.Database) {
    this.raw = raw;
  }

  /** Opens (creating if needed) the database file; `':memory:'` for a private in-memory one. */
  static open(file: string, options: SqliteDatabaseOptions = {}): SqliteDatabase {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const raw = new BetterSqlite3(file);
    raw.pragma('journal_mode = WAL');
    raw.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    raw.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    raw.pragma('foreign_keys = ON');
    return new SqliteDatabase(raw);
  }

  query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return this.exclusive(() => this.querySync<R>(sql, params));
  }

  execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    return this.exclusive(() => this.executeSync(sql, params));
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const hooks: Array<() => void> = [];
    const result = await this.exclusive(async () => {
      const tx = new SqliteTransaction(this, hooks);
      this.raw.exec('BEGIN IMMEDIATE');
      try {
        const value = await insideTransaction.run(this, () => fn(tx));
        tx.done = true;
        this.raw.exec('COMMIT');
        return value;
      } catch (err) {
        tx.done = true;
        if (this.raw.inTransaction) this.raw.exec('ROLLBACK');
        throw err;
      }
    });
    for (const hook of hooks) hook();
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.exclusive(async () => {
      this.closed = true;
      this.cache.clear();
      this.raw.close();
    });
  }

  /** Runs a statement now, synchronously; only call while holding the queue. @internal */
  querySync<R>(sql: string, params: readonly unknown[]): R[] {
    const { stmt, args } = this.bind(sql, params);
    if (stmt.reader) return stmt.all(...args) as R[];
    stmt.run(...args);
    return [];
  }

  /** @internal */
  executeSync(sql: string, params: readonly unknown[]): number {
    const { stmt, args } = this.bind(sql, params);
    if (stmt.reader) return stmt.all(...args).length;
    return stmt.run(...args).changes;
  }

  private bind(sql: string, params: readonly unknown[]): { stmt: Statement; args: unknown[] } {
    if (this.closed) throw new Error('SqliteDatabase is closed');
    let prepared = this.cache.get(sql);
    if (!prepared) {
      const { sql: rewritten, order } = rewritePlaceholders(sql);
      prepared = { stmt: this.raw.prepare(rewritten), order };
      if (this.cache.size >= MAX_CACHED_STATEMENTS) this.cache.clear();
      this.cache.set(sql, prepared);
    }
    const args = prepared.order.map((i) => toSqlite(params[i]));
    return { stmt: prepared.stmt, args };
  }

  private exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    if (insideTransaction.getStore() === this) {
      // Waiting for our own transaction to finish would hang forever: fail loudly instead.
      return Promise.reject(
        new Error('SqliteDatabase used directly inside its own transaction; use the `tx` argument instead'),
      );
    }
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

class SqliteTransaction implements SqlTransaction {
  readonly dialect = 'sqlite' as const;
  done = false;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly hooks: Array<() => void>,
  ) {}

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    this.assertOpen();
    return this.db.querySync<R>(sql, params);
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    this.assertOpen();
    return this.db.executeSync(sql, params);
  }

  afterCommit(fn: () => void): void {
    this.hooks.push(fn);
  }

  private assertOpen(): void {
    if (this.done) throw new Error('Transaction already finished; do not keep `tx` beyond its callback');
  }
}

/** SQLite cannot bind booleans, Dates or undefined; map them to what it can store. */
function toSqlite(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.toISOString();
  return v;
}
