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
import type { PostgresDatabase } from './database.js';
import { migrateMessaging } from './messaging-schema.js';
import { NotifyListener } from './notify-listener.js';

/**
 * The transactional outbox on PostgreSQL. `enqueue(tx, messages)` writes rows in the caller's
 * transaction and queues a `NOTIFY trellis_outbox`; relays in any process LISTEN and wake at
 * commit, polling as a fallback. Any number of relay replicas can run: each batch is taken
 * with `FOR UPDATE SKIP LOCKED`, and a relay skips a key whose earlier row another relay holds,
 * so a key's messages are still published in order.
 *
 * @example
 * ```ts
 * const outbox = await PostgresOutbox.create(db);
 * eventStore.onAppend(outboxAppendHook(outbox));
 * const relay = outbox.startRelay(bus);
 * ```
 */
export class PostgresOutbox extends SqlOutbox {
  private constructor(
    private readonly db: PostgresDatabase,
    private readonly pgOptions: SqlOutboxOptions,
  ) {
    super('trellis_outbox', pgOptions);
  }

  /** Creates the messaging tables if needed. */
  static async create(db: PostgresDatabase, options: SqlOutboxOptions = {}): Promise<PostgresOutbox> {
    await migrateMessaging(db);
    return new PostgresOutbox(db, options);
  }

  /** A relay source over this outbox (one per relay; it holds one LISTEN connection). */
  source(): OutboxSource {
    return new PostgresOutboxSource(this.db, this, this.pgOptions.clock ?? systemClock);
  }

  /** Starts a relay publishing this outbox to `bus`. Stop it with `relay.stop()`. */
  startRelay(
    bus: Pick<Bus, 'publishBatch'>,
    options: Omit<OutboxRelayOptions, 'source' | 'bus'> = {},
  ): OutboxRelay {
    return new OutboxRelay({ clock: this.pgOptions.clock, ...options, source: this.source(), bus }).start();
  }
}

class PostgresOutboxSource implements OutboxSource {
  private readonly listeners = new Set<() => void>();
  private readonly listener: NotifyListener;
  private unsubscribeLocal: (() => void) | undefined;

  constructor(
    private readonly db: PostgresDatabase,
    private readonly outbox: PostgresOutbox,
    clock: Clock,
  ) {
    this.listener = new NotifyListener(db.pool, outbox.table, () => this.fire(), clock);
  }

  async relay(limit: number, publish: (messages: PreparedMessage[]) => Promise<void>): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<OutboxRow>(
        'SELECT * FROM trellis_outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED',
        [limit],
      );
      if (rows.length === 0) return 0;
      const send = await this.sendable(tx, rows);
      if (send.length === 0) return 0;
      await publish(send.map(fromOutboxRow));
      await tx.execute('DELETE FROM trellis_outbox WHERE seq = ANY($1)', [send.map((r) => r.seq)]);
      return send.length;
    });
  }

  async backlog(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('SELECT COUNT(*)::bigint AS n FROM trellis_outbox');
    return row?.n ?? 0;
  }

  onWake(listener: () => void): () => void {
    this.listeners.add(listener);
    this.unsubscribeLocal ??= this.outbox.onWake(() => this.fire());
    void this.listener.start();
    return () => {
      this.listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.unsubscribeLocal?.();
    this.unsubscribeLocal = undefined;
    await this.listener.stop();
  }

  private fire(): void {
    for (const l of this.listeners) l();
  }

  /**
   * The rows of this batch that may go now. Another relay may hold (locked, so we skipped it)
   * a row of the same key that sorts before or between ours; for each key only the rows up to
   * the first such foreign row are sent, the rest wait for a later batch.
   */
  private async sendable(
    tx: { query<R>(sql: string, params?: readonly unknown[]): Promise<R[]> },
    rows: OutboxRow[],
  ): Promise<OutboxRow[]> {
    const keys = [...new Set(rows.map((r) => r.msg_key).filter((k): k is string => k !== null))];
    if (keys.length === 0) return rows;
    const last = (rows[rows.length - 1] as OutboxRow).seq;
    const visible = await tx.query<{ msg_key: string; seq: number }>(
      'SELECT msg_key, seq FROM trellis_outbox WHERE msg_key = ANY($1) AND seq <= $2 ORDER BY seq',
      [keys, last],
    );
    const mine = new Set(rows.map((r) => r.seq));
    const cut = new Map<string, number>(); // key -> first seq held elsewhere
    for (const v of visible) if (!mine.has(v.seq) && !cut.has(v.msg_key)) cut.set(v.msg_key, v.seq);
    return rows.filter((r) => r.msg_key === null || r.seq < (cut.get(r.msg_key) ?? Number.POSITIVE_INFINITY));
  }
}
