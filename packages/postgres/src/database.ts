import type { SqlDatabase, SqlTransaction } from '@trellis/core';
import pg from 'pg';

/** Options for {@link PostgresDatabase}. */
export interface PostgresDatabaseOptions {
  /** Maximum pooled connections (default 10). */
  max?: number;
  /** Sent as `application_name`, visible in `pg_stat_activity`. */
  applicationName?: string;
  /** A ready pool to use instead of creating one (the caller then owns its lifecycle). */
  pool?: pg.Pool;
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

  private constructor(pool: pg.Pool, ownsPool: boolean) {
    this.pool = pool;
    this.ownsPool = ownsPool;
  }

  /** Creates a pool for `url` (or wraps `options.pool`). */
  static connect(url: string, options: PostgresDatabaseOptions = {}): PostgresDatabase {
    if (options.pool) return new PostgresDatabase(options.pool, false);
    const pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 10,
      application_name: options.applicationName ?? 'trellis',
      types,
    });
    // An idle client losing its connection (server restart) must not crash the process;
    // the pool drops it and the next checkout opens a fresh one.
    pool.on('error', () => {});
    return new PostgresDatabase(pool, true);
  }

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    const res = await this.pool.query(sql, params as unknown[]);
    return res.rows as R[];
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    const res = await this.pool.query(sql, params as unknown[]);
    return res.rowCount ?? 0;
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // The pool listens for errors only on idle clients. A connection lost mid-transaction (the
    // server killed or restarted) makes pg emit 'error' on this checked-out client besides
    // failing its query; unheard, that crashed the process. The query's rejection is enough.
    let lost: Error | undefined;
    const onError = (err: Error) => {
      lost = err;
    };
    client.on('error', onError);
    const hooks: Array<() => void> = [];
    const tx = new PostgresTransaction(client, hooks);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const value = await fn(tx);
      tx.done = true;
      await client.query('COMMIT');
      for (const hook of hooks) hook();
      return value;
    } catch (err) {
      tx.done = true;
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error;
      }
      throw err;
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

  constructor(
    readonly client: pg.PoolClient,
    private readonly hooks: Array<() => void>,
  ) {}

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    this.assertOpen();
    const res = await this.client.query(sql, params as unknown[]);
    return res.rows as R[];
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    this.assertOpen();
    const res = await this.client.query(sql, params as unknown[]);
    return res.rowCount ?? 0;
  }

  afterCommit(fn: () => void): void {
    this.hooks.push(fn);
  }

  private assertOpen(): void {
    if (this.done) throw new Error('Transaction already finished; do not keep `tx` beyond its callback');
  }
}
