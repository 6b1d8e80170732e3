import type { SqlExecutor } from '@trellis/core';
import { type PreparedMessage, topicMatches } from '@trellis/messaging';
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from './database.js';

/**
 * The SQL of the durable SQLite bus, kept apart from its scheduling. Every function runs inside
 * a transaction the caller opened (SQLite's `BEGIN IMMEDIATE` makes each one atomic across
 * processes sharing the file). The hot paths (publish, claim, settle) run prepared statements
 * on the raw connection synchronously: inside the caller's transaction that is safe, and it
 * skips the per-statement async and placeholder work.
 */

type Stmt = BetterSqlite3.Statement<unknown[], unknown>;

/** Prepared statements of one connection. */
export class BusStatements {
  readonly version: Stmt;
  readonly consumers: Stmt;
  readonly insertMessage: Stmt;
  readonly messageSeq: Stmt;
  readonly insertDelivery: Stmt;
  readonly claimable: Stmt;
  readonly lease: Stmt;
  readonly ack: Stmt;
  readonly reschedule: Stmt;
  readonly extend: Stmt;

  private constructor(raw: BetterSqlite3.Database) {
    const p = (sql: string) => raw.prepare(sql) as Stmt;
    this.version = p('SELECT COUNT(*) AS n, MAX(consumer_id) AS m FROM trellis_bus_consumers');
    this.consumers = p('SELECT consumer_id, group_name, pattern FROM trellis_bus_consumers');
    this.insertMessage = p(
      `INSERT INTO trellis_bus_messages (id, topic, msg_key, headers, payload, published_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING seq`,
    );
    this.messageSeq = p('SELECT seq FROM trellis_bus_messages WHERE id = ?');
    this.insertDelivery = p(
      `INSERT INTO trellis_bus_deliveries (consumer_id, seq, msg_key, attempts, available_at)
       VALUES (?, ?, ?, 0, 0) ON CONFLICT DO NOTHING`,
    );
    this.claimable = p(
      `SELECT d.seq, d.attempts, d.first_attempt_at, m.id, m.topic, m.msg_key, m.headers, m.payload, m.published_at
       FROM trellis_bus_deliveries d JOIN trellis_bus_messages m ON m.seq = d.seq
       WHERE d.consumer_id = ? AND d.available_at <= ?
         AND (d.msg_key IS NULL OR NOT EXISTS (
           SELECT 1 FROM trellis_bus_deliveries e WHERE e.consumer_id = d.consumer_id AND e.msg_key = d.msg_key AND e.seq < d.seq))
       ORDER BY d.seq LIMIT ?`,
    );
    this.lease = p(
      `UPDATE trellis_bus_deliveries SET attempts = attempts + 1, available_at = ?, lease_owner = ?,
         first_attempt_at = COALESCE(first_attempt_at, ?) WHERE consumer_id = ? AND seq = ?`,
    );
    this.ack = p('DELETE FROM trellis_bus_deliveries WHERE consumer_id = ? AND seq = ? AND lease_owner = ?');
    this.reschedule = p(
      `UPDATE trellis_bus_deliveries SET available_at = ?, lease_owner = NULL
       WHERE consumer_id = ? AND seq = ? AND lease_owner = ?`,
    );
    this.extend = p(
      'UPDATE trellis_bus_deliveries SET available_at = ? WHERE consumer_id = ? AND seq = ? AND lease_owner = ?',
    );
  }

  private static readonly cache = new WeakMap<SqliteDatabase, BusStatements>();

  /** The statements of `db` (prepared once per connection; the bus tables must exist). */
  static of(db: SqliteDatabase): BusStatements {
    let s = BusStatements.cache.get(db);
    if (!s) {
      s = new BusStatements(db.raw);
      BusStatements.cache.set(db, s);
    }
    return s;
  }
}

/** A consumer (group + pattern) as registered in the bus database. */
export interface ConsumerRow {
  consumer_id: number;
  group_name: string;
  pattern: string;
}

/**
 * The registered consumers, cached and refreshed when another process registers one (the
 * count and highest id change; consumers are never deleted while a bus runs).
 */
export class ConsumerRegistry {
  private consumers: ConsumerRow[] = [];
  private version = '';
  private readonly byTopic = new Map<string, ConsumerRow[]>();

  /** Re-reads the consumers if another process changed them. Call inside a transaction. */
  refresh(sql: BusStatements): void {
    const v = sql.version.get() as { n: number; m: number | null };
    const version = `${v.n}:${v.m}`;
    if (version === this.version) return;
    this.consumers = sql.consumers.all() as ConsumerRow[];
    this.byTopic.clear();
    this.version = version;
  }

  /** Consumers a message on `topic` goes to (only `group`'s when it is addressed to one). */
  matching(topic: string, group: string | undefined): ConsumerRow[] {
    let all = this.byTopic.get(topic);
    if (!all) {
      all = this.consumers.filter((c) => topicMatches(c.pattern, topic));
      if (this.byTopic.size > 10_000) this.byTopic.clear();
      this.byTopic.set(topic, all);
    }
    return group === undefined ? all : all.filter((c) => c.group_name === group);
  }
}

/**
 * Stores messages and queues a delivery for every matching consumer. A message id already
 * stored is a duplicate (a resend) and is skipped, unless the message is addressed to one
 * group (a dead-letter replay), which queues it for that group again. Call inside a
 * transaction on the statements' connection.
 */
export function insertMessages(
  sql: BusStatements,
  messages: readonly PreparedMessage[],
  registry: ConsumerRegistry,
): void {
  registry.refresh(sql);
  for (const m of messages) {
    const key = m.key ?? null;
    const row = sql.insertMessage.get(
      m.id,
      m.topic,
      key,
      JSON.stringify(m.headers),
      m.payload,
      m.publishedAt,
    ) as { seq: number } | undefined;
    let seq = row?.seq;
    if (seq === undefined) {
      if (m.group === undefined) continue;
      seq = (sql.messageSeq.get(m.id) as { seq: number } | undefined)?.seq;
      if (seq === undefined) continue;
    }
    for (const c of registry.matching(m.topic, m.group)) sql.insertDelivery.run(c.consumer_id, seq, key);
  }
}

/** Registers (group, pattern); a new consumer starting from `all` gets the retained history. */
export async function registerConsumer(
  tx: SqlExecutor,
  group: string,
  pattern: string,
  from: 'new' | 'all',
  now: number,
): Promise<number> {
  const [created] = await tx.query<{ consumer_id: number }>(
    `INSERT INTO trellis_bus_consumers (group_name, pattern, created_at) VALUES ($1, $2, $3)
     ON CONFLICT (group_name, pattern) DO NOTHING RETURNING consumer_id`,
    [group, pattern, now],
  );
  if (!created) {
    const [row] = await tx.query<{ consumer_id: number }>(
      'SELECT consumer_id FROM trellis_bus_consumers WHERE group_name = $1 AND pattern = $2',
      [group, pattern],
    );
    return (row as { consumer_id: number }).consumer_id;
  }
  if (from === 'all') {
    const history = await tx.query<{ seq: number; topic: string; msg_key: string | null }>(
      'SELECT seq, topic, msg_key FROM trellis_bus_messages ORDER BY seq',
    );
    for (const m of history) {
      if (!topicMatches(pattern, m.topic)) continue;
      await tx.execute(
        'INSERT INTO trellis_bus_deliveries (consumer_id, seq, msg_key, attempts, available_at) VALUES ($1, $2, $3, 0, 0)',
        [created.consumer_id, m.seq, m.msg_key],
      );
    }
  }
  return created.consumer_id;
}

/** A delivery taken by a member, with its message. */
export interface ClaimedRow {
  seq: number;
  attempts: number;
  first_attempt_at: number | null;
  id: string;
  topic: string;
  msg_key: string | null;
  headers: string;
  payload: string;
  published_at: number;
}

/**
 * Leases up to `limit` deliveries of a consumer to `owner` until `leaseUntil`: available now,
 * and each the earliest pending delivery of its key, so a key is never handled twice at once
 * nor out of order (a retry holds back the key's later messages).
 */
export function claim(
  sql: BusStatements,
  consumerId: number,
  owner: string,
  limit: number,
  now: number,
  leaseUntil: number,
): ClaimedRow[] {
  const rows = sql.claimable.all(consumerId, now, limit) as ClaimedRow[];
  for (const r of rows) {
    sql.lease.run(leaseUntil, owner, now, consumerId, r.seq);
    r.attempts += 1;
  }
  return rows;
}

/** Acknowledges a delivery; false when the lease was lost (another member took it over). */
export function ack(sql: BusStatements, consumerId: number, seq: number, owner: string): boolean {
  return sql.ack.run(consumerId, seq, owner).changes > 0;
}

/** Releases a delivery until `availableAt` (a retry after backoff). */
export function reschedule(
  sql: BusStatements,
  consumerId: number,
  seq: number,
  owner: string,
  availableAt: number,
): void {
  sql.reschedule.run(availableAt, consumerId, seq, owner);
}

/** Extends the leases of running deliveries. */
export function extendLeases(
  sql: BusStatements,
  consumerId: number,
  seqs: readonly number[],
  owner: string,
  leaseUntil: number,
): void {
  for (const seq of seqs) sql.extend.run(leaseUntil, consumerId, seq, owner);
}

/** Backlog of one consumer. */
export async function consumerLag(
  ex: SqlExecutor,
  consumerId: number,
  now: number,
): Promise<{ pending: number; inFlight: number }> {
  const [row] = await ex.query<{ pending: number; in_flight: number | null }>(
    `SELECT COUNT(*) AS pending, SUM(CASE WHEN lease_owner IS NOT NULL AND available_at > $2 THEN 1 ELSE 0 END) AS in_flight
     FROM trellis_bus_deliveries WHERE consumer_id = $1`,
    [consumerId, now],
  );
  return { pending: row?.pending ?? 0, inFlight: row?.in_flight ?? 0 };
}

/** Deletes fully delivered messages older than `cutoff` (bounded batch); returns how many. */
export async function pruneMessages(ex: SqlExecutor, cutoff: number): Promise<number> {
  return ex.execute(
    `DELETE FROM trellis_bus_messages WHERE seq IN (
       SELECT m.seq FROM trellis_bus_messages m WHERE m.published_at < $1
         AND NOT EXISTS (SELECT 1 FROM trellis_bus_deliveries d WHERE d.seq = m.seq) LIMIT 5000)`,
    [cutoff],
  );
}
