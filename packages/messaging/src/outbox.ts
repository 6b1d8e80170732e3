import { type Clock, type SqlTransaction, systemClock } from '@trellis/core';
import type { HeaderProvider } from './bus.js';
import type { OutgoingMessage } from './message.js';
import { type PreparedMessage, prepareMessage } from './prepare.js';
import type { TopicSchemas } from './schemas.js';

/**
 * The transactional outbox: messages are written as rows in the same transaction as the
 * state change that caused them (an event-store append, a plain service write), and an
 * {@link OutboxRelay} publishes them after commit. A crash between the commit and the publish
 * cannot lose a message: the row is still there, and the relay sends it (again) later.
 */
export interface Outbox<Tx = SqlTransaction> {
  /**
   * Adds `messages` to the outbox inside `tx`. They are published, in order, after `tx`
   * commits; if it rolls back they never existed. Throws `ValidationError` (topic, key, the
   * topic's payload schema) before writing anything.
   */
  enqueue(tx: Tx, messages: readonly OutgoingMessage[]): Promise<void>;
}

/** Where a relay reads committed outbox rows from (one per backend). */
export interface OutboxSource {
  /**
   * Takes up to `limit` unsent rows in order, calls `publish` with them, and marks them sent
   * only if it resolves. Must never hand a relay a row while another relay holds an earlier
   * row with the same key (per-key order with several relay replicas). Resolves to how many
   * rows were relayed; `0` means nothing was available.
   */
  relay(limit: number, publish: (messages: PreparedMessage[]) => Promise<void>): Promise<number>;
  /** Unsent rows. */
  backlog(): Promise<number>;
  /** Calls `listener` when new rows were committed (in-process hooks, NOTIFY). Returns an unsubscribe. */
  onWake(listener: () => void): () => void;
  /** Releases listeners and connections. */
  close?(): Promise<void>;
}

/** Options shared by the SQL outbox writers. */
export interface SqlOutboxOptions {
  clock?: Clock;
  /** Payload schemas per topic, checked at enqueue time. */
  schemas?: TopicSchemas;
  /** Fills headers (e.g. the active trace context) at enqueue time. */
  headers?: HeaderProvider;
}

/** Columns of the outbox table in insert order. */
const COLUMNS = 'id, topic, msg_key, headers, payload, published_at, target_group';

/**
 * The outbox writer for both SQL backends (the table is created by `@trellis/sqlite` or
 * `@trellis/postgres`). Rows are inserted with one multi-row statement; after commit, local
 * relays are woken at once, and on PostgreSQL a `NOTIFY` wakes relays in other processes.
 *
 * @example
 * ```ts
 * await db.transaction(async (tx) => {
 *   await tx.execute('UPDATE orders SET status = $1 WHERE id = $2', ['paid', id]);
 *   await outbox.enqueue(tx, [{ topic: 'order.paid', key: id, payload: { orderId: id } }]);
 * });
 * ```
 */
export class SqlOutbox implements Outbox<SqlTransaction> {
  private readonly listeners = new Set<() => void>();
  private readonly clock: Clock;

  constructor(
    readonly table: string,
    private readonly options: SqlOutboxOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  async enqueue(tx: SqlTransaction, messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const ctx = { clock: this.clock, schemas: this.options.schemas, headers: this.options.headers };
    await this.enqueuePrepared(
      tx,
      messages.map((m) => prepareMessage(m, ctx)),
    );
  }

  /** Writes already prepared messages (dead-letter replays keep their original envelope). */
  async enqueuePrepared(tx: SqlTransaction, prepared: readonly PreparedMessage[]): Promise<void> {
    await writeOutboxRows(tx, this.table, prepared);
    tx.afterCommit(() => this.wake());
  }

  /** Registers an in-process wake-up listener (the relay). Returns an unsubscribe. */
  onWake(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private wake(): void {
    for (const l of this.listeners) l();
  }
}

/**
 * Inserts outbox rows inside `tx` (one multi-row statement per 100 rows) and, on PostgreSQL,
 * queues a `NOTIFY <table>` that wakes relays in other processes at commit.
 */
export async function writeOutboxRows(
  tx: SqlTransaction,
  table: string,
  messages: readonly PreparedMessage[],
): Promise<void> {
  // Stay well below both backends' bound-parameter limits.
  for (let i = 0; i < messages.length; i += 100) {
    const params: unknown[] = [];
    const tuples = messages.slice(i, i + 100).map((m) => {
      const base = params.length;
      params.push(
        m.id,
        m.topic,
        m.key ?? null,
        JSON.stringify(m.headers),
        m.payload,
        m.publishedAt,
        m.group ?? null,
      );
      return `(${Array.from({ length: 7 }, (_, j) => `$${base + j + 1}`).join(', ')})`;
    });
    await tx.execute(`INSERT INTO ${table} (${COLUMNS}) VALUES ${tuples.join(', ')}`, params);
  }
  if (messages.length > 0 && tx.dialect === 'postgres') await tx.execute(`SELECT pg_notify('${table}', '')`);
}

/** A row of the outbox table as both backends return it. */
export interface OutboxRow {
  seq: number;
  id: string;
  topic: string;
  msg_key: string | null;
  headers: string;
  payload: string;
  published_at: number;
  target_group: string | null;
}

/** Converts a stored row back to a prepared message. */
export function fromOutboxRow(row: OutboxRow): PreparedMessage {
  return {
    id: row.id,
    topic: row.topic,
    key: row.msg_key ?? undefined,
    headers: JSON.parse(row.headers) as Record<string, string>,
    payload: row.payload,
    publishedAt: Number(row.published_at),
    group: row.target_group ?? undefined,
  };
}
