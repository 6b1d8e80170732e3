import { type SqlDatabase, type SqlTransaction, ValidationError } from '@trellis/core';
import pg from 'pg';
import { type TimeoutLimits, toDatabaseTimeout } from './database-timeout.js';

/** Options for {@link PostgresDatabase}. */
export interface PostgresDatabaseOptions {
  /** Maximum pooled connections (default 10). */
  max?: number;
  /** Sent as `application_name`, visible in `pg_stat_activity`. */
  applicationName?: string;
  /** A ready pool to use instead of creating one (the caller then owns its lifecycle). */
  pool?: pg.Pool;
  /**
   * Client-side limit on each statement, in ms (pg's `query_timeout`; default off). A statement
   * that gets no answer in time (a cut link, a stopped server, a lock held too long) rejects with
   * `DatabaseTimeoutError` (`DB_TIMEOUT`, 503) and its connection is destroyed, not pooled again;
   * a transaction it was part of is not committed. Set it above your slowest legitimate statement.
   */
  queryTimeoutMillis?: number;
  /** How long to wait for a pooled connection, or to open one, in ms (default: for ever). */
  connectionTimeoutMillis?: number;
  /** TCP keep-alive on every connection, so a dead peer is noticed while idle (default false). */
  keepAlive?: boolean;
  /** Idle time before the first keep-alive probe, in ms (default: the OS's, usually 2 hours). */
  keepAliveInitialDelayMillis?: number;
}

const LIMITS = ['queryTimeoutMillis', 'connectionTimeoutMillis', 'keepAliveInitialDelayMillis'] as const;

function checkOptions(options: PostgresDatabaseOptions): void {
  for (const name of LIMITS) {
    const value = options[name];
    if (value === undefined || (Number.isSafeInteger(value) && value > 0)) continue;
    throw new ValidationError(`Invalid PostgresDatabase options at "${name}": expected a positive integer`, [
      { path: name, message: 'expected a positive integer of milliseconds' },
    ]);
  }
}

// BIGINT (int8) and NUMERIC arrive as strings by default; positions, versions and counts
// in Trellis stay far below 2^53, so parse them to numbers once, here.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format ?? 'text');
  },
};

/**
 * The PostgreSQL unit of work over a `pg` pool: each transaction checks out one connection,
 * runs `BEGIN … COMMIT` on it, and releases it (destroying it if the transaction failed in a
 * way that may have left it unusable).
 *
 * @example
 * ```ts
 * const db = PostgresDatabase.connect(process.env.DATABASE_URL!);
 * await db.transaction(async (tx) => {
 *   await tx.execute('INSERT INTO orders (id) VALUES ($1)', [id]);
 * });
 * ```
 */
export class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres' as const;
  /** The underlying pool, for LISTEN/NOTIFY, COPY and other PostgreSQL-only needs. */
  readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly limits: TimeoutLimits;

  private constructor(pool: pg.Pool, ownsPool: boolean, limits: TimeoutLimits) {
    this.pool = pool;
    this.ownsPool = ownsPool;
    this.limits = limits;
  }

  /**
   * Creates a pool for `url` (or wraps `options.pool`). Timeouts and keep-alive are off unless
   * set; a service that must fail fast when its database is cut off sets `queryTimeoutMillis`,
   * `connectionTimeoutMillis` and `keepAlive`.
   *
   * Throws `ValidationError` when a timeout option is not a positive integer.
   *
   * @example
   * ```ts
   * const db = PostgresDatabase.connect(url, {
   *   queryTimeoutMillis: 10_000,
   *   connectionTimeoutMillis: 5_000,
   *   keepAlive: true,
   *   keepAliveInitialDelayMillis: 10_000,
   * });
   * ```
   */
  static connect(url: string, options: PostgresDatabaseOptions = {}): PostgresDatabase {
    checkOptions(options);
    const limits = {
      queryTimeoutMillis: options.queryTimeoutMillis,
      connectionTimeoutMillis: options.connectionTimeoutMillis,
    };
    if (options.pool) return new PostgresDatabase(options.pool, false, limits);
    const pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 10,
      application_name: options.applicationName ?? 'trellis',
      types,
      ...(options.queryTimeoutMillis ? { query_timeout: options.queryTimeoutMillis } : {}),
      ...(options.connectionTimeoutMillis
        ? { connectionTimeoutMillis: options.connectionTimeoutMillis }
        : {}),
      ...(options.keepAlive ? { keepAlive: true } : {}),
      ...(options.keepAliveInitialDelayMillis
        ? { keepAliveInitialDelayMillis: options.keepAliveInitialDelayMillis }
        : {}),
    });
    // An idle client losing its connection (server restart) must not crash the process;
    // the pool drops it and the next checkout opens a fresh one.
    pool.on('error', () => {});
    return new PostgresDatabase(pool, true, limits);
  }

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    // pool.query releases the client with the error, so a timed-out connection is destroyed.
    const res = await this.pool.query(sql, params as unknown[]).catch((err) => this.fail(err));
    return res.rows as R[];
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    const res = await this.pool.query(sql, params as unknown[]).catch((err) => this.fail(err));
    return res.rowCount ?? 0;
  }

  /**
   * `err` as Trellis types it: a `DatabaseTimeoutError` when it is one of pg's timeouts, else
   * `err` itself. For code that runs statements on {@link PostgresDatabase.pool} directly.
   */
  translateError(err: unknown): unknown {
    return toDatabaseTimeout(err, this.limits) ?? err;
  }

  /** Rethrows `err`, translated. */
  private fail(err: unknown): never {
    throw this.translateError(err);
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch((err) => this.fail(err));
    // The pool listens for errors only on idle clients. A connection lost mid-transaction (the
    // server killed or restarted) makes pg emit 'error' on this checked-out client besides
    // failing its query; unheard, that crashed the process. The query's rejection is enough.
    let lost: Error | undefined;
    const onError = (err: Error) => {
      lost = err;
    };
    client.on('error', onError);
    const hooks: Array<() => void> = [];
    const tx = new PostgresTransaction(client, hooks, this.limits);
    let broken: Error | undefined;
    try {
      await tx.run('BEGIN');
      const value = await fn(tx);
      tx.done = true;
      // A callback that caught a timeout and returned anyway must not commit on that connection.
      if (tx.timedOut) throw tx.timedOut;
      await tx.run('COMMIT');
      for (const hook of hooks) hook();
      return value;
    } catch (err) {
      tx.done = true;
      if (tx.timedOut) {
        // The timed-out statement may still be in flight, so the connection's state is unknown
        // and a ROLLBACK would only queue behind it (and time out too on a dead link). Destroying
        // the connection ends the session; PostgreSQL aborts a transaction whose session ends.
        broken = tx.timedOut;
        throw this.fail(err);
      }
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error;
      }
      throw this.fail(err);
    } finally {
      client.removeListener('error', onError);
      client.release(broken ?? lost);
    }
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}

class PostgresTransaction implements SqlTransaction {
  readonly dialect = 'postgres' as const;
  done = false;
  /** Set when a statement of this transaction timed out: its connection must not be reused. */
  timedOut: Error | undefined;

  constructor(
    readonly client: pg.PoolClient,
    private readonly hooks: Array<() => void>,
    private readonly limits: TimeoutLimits,
  ) {}

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    this.assertOpen();
    const res = await this.run(sql, params);
    return res.rows as R[];
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    this.assertOpen();
    const res = await this.run(sql, params);
    return res.rowCount ?? 0;
  }

  /** Runs one statement on the connection, typing a timeout and remembering it. */
  async run(sql: string, params: readonly unknown[] = []): Promise<pg.QueryResult> {
    if (this.timedOut) throw this.timedOut;
    try {
      return await this.client.query(sql, params as unknown[]);
    } catch (err) {
      const timeout = toDatabaseTimeout(err, this.limits);
      if (!timeout) throw err;
      this.timedOut ??= timeout;
      throw timeout;
    }
  }

  afterCommit(fn: () => void): void {
    this.hooks.push(fn);
  }

  private assertOpen(): void {
    if (this.done) throw new Error('Transaction already finished; do not keep `tx` beyond its callback');
  }
}
