/**
 * `IdempotencyStore` on the `SqlDatabase` contract, so it runs on SQLite and PostgreSQL alike
 * and survives restarts. One row per key; claiming is an `INSERT … ON CONFLICT DO NOTHING`,
 * so two instances racing for a key cannot both win.
 */
import { type Clock, type SqlDatabase, systemClock } from '@trellis/core';
import type { AcquireResult, IdempotencyStore, StoredResponse } from './idempotency-store.js';

const TABLE = 'trellis_idempotency_keys';

interface Row {
  fingerprint: string;
  status: number | null;
  headers: string | null;
  body: string | null;
  expires_at: number | string;
}

/**
 * @example
 * ```ts
 * const store = new SqlIdempotencyStore(SqliteDatabase.open('./data/orders.db'));
 * await store.migrate();
 * createService({ name: 'orders', routes, idempotency: { store } });
 * ```
 */
export class SqlIdempotencyStore implements IdempotencyStore {
  private readonly clock: Clock;

  constructor(
    private readonly db: SqlDatabase,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  /** Creates the table if it does not exist. */
  async migrate(): Promise<void> {
    await this.db.execute(`CREATE TABLE IF NOT EXISTS ${TABLE} (
      idem_key TEXT PRIMARY KEY,
      fingerprint TEXT NOT NULL,
      status INTEGER,
      headers TEXT,
      body TEXT,
      expires_at BIGINT NOT NULL
    )`);
  }

  async acquire(key: string, fingerprint: string, lockMs: number): Promise<AcquireResult> {
    const now = this.clock.now();
    return this.db.transaction(async (tx) => {
      // A finished entry past its TTL, or a claim whose holder died, is free again.
      await tx.execute(`DELETE FROM ${TABLE} WHERE idem_key = $1 AND expires_at <= $2`, [key, now]);
      const inserted = await tx.execute(
        `INSERT INTO ${TABLE} (idem_key, fingerprint, expires_at) VALUES ($1, $2, $3) ON CONFLICT (idem_key) DO NOTHING`,
        [key, fingerprint, now + lockMs],
      );
      if (inserted === 1) return { state: 'acquired' } as const;
      const rows = await tx.query<Row>(
        `SELECT fingerprint, status, headers, body, expires_at FROM ${TABLE} WHERE idem_key = $1`,
        [key],
      );
      const row = rows[0];
      if (!row) return { state: 'acquired' } as const;
      if (row.status === null || row.body === null)
        return { state: 'in-progress', fingerprint: row.fingerprint };
      return {
        state: 'completed',
        fingerprint: row.fingerprint,
        response: { status: Number(row.status), headers: JSON.parse(row.headers ?? '{}'), body: row.body },
      };
    });
  }

  async complete(key: string, response: StoredResponse, ttlMs: number): Promise<void> {
    await this.db.execute(
      `UPDATE ${TABLE} SET status = $2, headers = $3, body = $4, expires_at = $5 WHERE idem_key = $1`,
      [key, response.status, JSON.stringify(response.headers), response.body, this.clock.now() + ttlMs],
    );
  }

  async release(key: string): Promise<void> {
    await this.db.execute(`DELETE FROM ${TABLE} WHERE idem_key = $1 AND status IS NULL`, [key]);
  }

  /** Deletes expired rows; returns how many. Run it now and then (it is also done lazily per key). */
  purgeExpired(): Promise<number> {
    return this.db.execute(`DELETE FROM ${TABLE} WHERE expires_at <= $1`, [this.clock.now()]);
  }
}
