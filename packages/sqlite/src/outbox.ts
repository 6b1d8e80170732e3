import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '@trellis/core';
import {
  type Bus,
  fromOutboxRow,
  OutboxRelay,
  type OutboxRelayOptions,
  type OutboxRow,
  type OutboxSource,
  type PreparedMessage,
  SqlOutbox,
  type SqlOutboxOptions,
} from '@trellis/messaging';
import type { SqliteDatabase } from './database.js';
import { migrateOutbox } from './messaging-schema.js';

/** Options of {@link SqliteOutbox}. */
export interface SqliteOutboxOptions extends SqlOutboxOptions {
  /**
   * How long a relay's lease lasts without renewal (default 10 000 ms). Only the lease holder
   * relays, so several processes sharing one database file never interleave a key's rows.
   */
  leaseMs?: number;
}

/**
 * The transactional outbox on SQLite. `enqueue(tx, messages)` writes rows in the caller's
 * transaction; {@link SqliteOutbox.startRelay} publishes them after commit, woken at once by
 * local commits and polling for rows written by other processes.
 *
 * @example
 * ```ts
 * const outbox = await SqliteOutbox.create(db);
 * eventStore.onAppend(outboxAppendHook(outbox));
 * const relay = outbox.startRelay(bus);
 * ```
 */
export class SqliteOutbox extends SqlOutbox {
  private constructor(
    private readonly db: SqliteDatabase,
    private readonly sqliteOptions: SqliteOutboxOptions,
  ) {
    super('trellis_outbox', sqliteOptions);
  }

  /** Creates the outbox tables if needed. */
  static async create(db: SqliteDatabase, options: SqliteOutboxOptions = {}): Promise<SqliteOutbox> {
    await migrateOutbox(db);
    return new SqliteOutbox(db, options);
  }

  /** A relay source over this outbox (one per relay). */
  source(): OutboxSource {
    return new SqliteOutboxSource(this.db, this, this.sqliteOptions);
  }

  /** Starts a relay publishing this outbox to `bus`. Stop it with `relay.stop()`. */
  startRelay(
    bus: Pick<Bus, 'publishBatch'>,
    options: Omit<OutboxRelayOptions, 'source' | 'bus'> = {},
  ): OutboxRelay {
    return new OutboxRelay({
      clock: this.sqliteOptions.clock,
      ...options,
      source: this.source(),
      bus,
    }).start();
  }
}

class SqliteOutboxSource implements OutboxSource {
  private readonly owner = `${process.pid}-${randomUUID()}`;
  private readonly clock: Clock;
  private readonly leaseMs: number;
  private leaseUntil = 0;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly outbox: SqliteOutbox,
    options: SqliteOutboxOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.leaseMs = options.leaseMs ?? 10_000;
  }

  async relay(limit: number, publish: (messages: PreparedMessage[]) => Promise<void>): Promise<number> {
    if (!(await this.holdLease())) return 0;
    const rows = await this.db.query<OutboxRow>('SELECT * FROM trellis_outbox ORDER BY seq LIMIT $1', [
      limit,
    ]);
    if (rows.length === 0) return 0;
    await publish(rows.map(fromOutboxRow));
    // SQLite has one writer at a time, so sequence order is commit order and the range read
    // above has no holes a later commit could fill.
    const first = (rows[0] as OutboxRow).seq;
    const last = (rows[rows.length - 1] as OutboxRow).seq;
    await this.db.execute('DELETE FROM trellis_outbox WHERE seq >= $1 AND seq <= $2', [first, last]);
    return rows.length;
  }

  async backlog(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM trellis_outbox');
    return row?.n ?? 0;
  }

  onWake(listener: () => void): () => void {
    return this.outbox.onWake(listener);
  }

  async close(): Promise<void> {
    await this.db.execute('DELETE FROM trellis_outbox_lease WHERE name = $1 AND owner = $2', [
      'relay',
      this.owner,
    ]);
  }

  /** Takes or renews the relay lease; renews only when half of it has passed. */
  private async holdLease(): Promise<boolean> {
    const now = this.clock.now();
    if (now < this.leaseUntil - this.leaseMs / 2) return true;
    const until = now + this.leaseMs;
    const changed = await this.db.execute(
      `INSERT INTO trellis_outbox_lease (name, owner, until) VALUES ('relay', $1, $2)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
       WHERE trellis_outbox_lease.owner = excluded.owner OR trellis_outbox_lease.until < $3`,
      [this.owner, until, now],
    );
    this.leaseUntil = changed > 0 ? until : 0;
    return changed > 0;
  }
}
