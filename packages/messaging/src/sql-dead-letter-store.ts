import {
  type Clock,
  type SqlDatabase,
  type SqlExecutor,
  type SqlTransaction,
  systemClock,
  uuidv7,
} from '@trellis/core';
import type {
  DeadLetter,
  DeadLetterError,
  DeadLetterFilter,
  DeadLetterPage,
  DeadLetterStore,
  NewDeadLetter,
} from './dead-letter.js';
import { matchesDeadLetterFilter } from './in-memory-dead-letter-store.js';

/**
 * Puts replayed dead letters back on their way, inside the replay's transaction (into an
 * outbox addressed to their group, or straight into the durable SQLite bus's tables).
 */
export type Redeliver = (tx: SqlTransaction, deadLetters: readonly DeadLetter[]) => Promise<void>;

/** Options of {@link SqlDeadLetterStore}. */
export interface SqlDeadLetterStoreOptions {
  /** Table name (default `trellis_dead_letters`); created by the backend package. */
  table?: string;
  redeliver: Redeliver;
  clock?: Clock;
}

interface Row {
  id: string;
  message_id: string;
  group_name: string;
  pattern: string;
  topic: string;
  msg_key: string | null;
  headers: string;
  payload: string;
  reason: DeadLetter['reason'];
  error: string;
  attempts: number;
  published_at: number;
  first_attempt_at: number | null;
  last_attempt_at: number;
  dead_lettered_at: number;
  transport: string;
}

const COLUMNS =
  'id, message_id, group_name, pattern, topic, msg_key, headers, payload, reason, error, error_code, attempts, published_at, first_attempt_at, last_attempt_at, dead_lettered_at, transport';

/**
 * Dead letters in a SQL table, shared by `@trellis/sqlite` and `@trellis/postgres` (the SQL is
 * portable; each backend creates the table and chooses how replays are redelivered). Listing
 * filters by indexed columns in SQL and by topic pattern in code.
 */
export class SqlDeadLetterStore implements DeadLetterStore {
  readonly table: string;
  private readonly clock: Clock;

  constructor(
    private readonly db: SqlDatabase,
    private readonly options: SqlDeadLetterStoreOptions,
  ) {
    this.table = options.table ?? 'trellis_dead_letters';
    this.clock = options.clock ?? systemClock;
  }

  async record(entry: NewDeadLetter): Promise<DeadLetter> {
    return this.db.transaction((tx) => this.recordIn(tx, entry));
  }

  /** {@link record} inside an open transaction (the SQLite bus dead-letters and acks at once). */
  async recordIn(tx: SqlExecutor, entry: NewDeadLetter): Promise<DeadLetter> {
    const now = this.clock.now();
    await tx.execute(
      `INSERT INTO ${this.table} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
       ON CONFLICT (group_name, message_id) DO NOTHING`,
      [
        uuidv7(now),
        entry.messageId,
        entry.group,
        entry.pattern,
        entry.topic,
        entry.key ?? null,
        JSON.stringify(entry.headers),
        JSON.stringify(entry.payload) ?? 'null',
        entry.reason,
        JSON.stringify(entry.error),
        entry.error.code ?? null,
        entry.attempts,
        entry.publishedAt,
        entry.firstAttemptAt ?? null,
        entry.lastAttemptAt,
        now,
        entry.transport,
      ],
    );
    const [row] = await tx.query<Row>(
      `SELECT * FROM ${this.table} WHERE group_name = $1 AND message_id = $2`,
      [entry.group, entry.messageId],
    );
    return toDeadLetter(row as Row);
  }

  async list(filter: DeadLetterFilter = {}, page: DeadLetterPage = {}): Promise<DeadLetter[]> {
    const offset = page.offset ?? 0;
    return (await this.matching(this.db, filter, false)).slice(offset, offset + (page.limit ?? 100));
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const [row] = await this.db.query<Row>(`SELECT * FROM ${this.table} WHERE id = $1`, [id]);
    return row && toDeadLetter(row);
  }

  async count(filter: DeadLetterFilter = {}): Promise<number> {
    return (await this.matching(this.db, filter, false)).length;
  }

  async replay(filter: DeadLetterFilter): Promise<number> {
    return this.db.transaction(async (tx) => {
      const chosen = await this.matching(tx, filter, true);
      if (chosen.length === 0) return 0;
      await this.options.redeliver(tx, chosen);
      await this.deleteIds(
        tx,
        chosen.map((d) => d.id),
      );
      return chosen.length;
    });
  }

  async purge(filter: DeadLetterFilter): Promise<number> {
    return this.db.transaction(async (tx) => {
      const chosen = await this.matching(tx, filter, true);
      await this.deleteIds(
        tx,
        chosen.map((d) => d.id),
      );
      return chosen.length;
    });
  }

  private async deleteIds(tx: SqlExecutor, ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      await tx.execute(
        `DELETE FROM ${this.table} WHERE id IN (${chunk.map((_, j) => `$${j + 1}`).join(', ')})`,
        chunk,
      );
    }
  }

  private async matching(ex: SqlExecutor, filter: DeadLetterFilter, lock: boolean): Promise<DeadLetter[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.ids) {
      if (filter.ids.length === 0) return [];
      const marks = filter.ids.map((id) => {
        params.push(id);
        return `$${params.length}`;
      });
      where.push(`id IN (${marks.join(', ')})`);
    }
    if (filter.group !== undefined) add('group_name = ?', filter.group);
    if (filter.key !== undefined) add('msg_key = ?', filter.key);
    if (filter.reason !== undefined) add('reason = ?', filter.reason);
    if (filter.errorCode !== undefined) add('error_code = ?', filter.errorCode);
    if (filter.since !== undefined) add('dead_lettered_at >= ?', filter.since);
    if (filter.until !== undefined) add('dead_lettered_at < ?', filter.until);
    if (filter.topic !== undefined && !/[*>]/.test(filter.topic)) add('topic = ?', filter.topic);
    const sql =
      `SELECT * FROM ${this.table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq` +
      (lock && ex.dialect === 'postgres' ? ' FOR UPDATE' : '');
    const rows = await ex.query<Row>(sql, params);
    return rows.map(toDeadLetter).filter((dl) => matchesDeadLetterFilter(dl, filter));
  }
}

function toDeadLetter(row: Row): DeadLetter {
  return {
    id: row.id,
    messageId: row.message_id,
    group: row.group_name,
    pattern: row.pattern,
    topic: row.topic,
    key: row.msg_key ?? undefined,
    headers: JSON.parse(row.headers) as Record<string, string>,
    payload: JSON.parse(row.payload),
    reason: row.reason,
    error: JSON.parse(row.error) as DeadLetterError,
    attempts: Number(row.attempts),
    publishedAt: Number(row.published_at),
    firstAttemptAt: row.first_attempt_at === null ? undefined : Number(row.first_attempt_at),
    lastAttemptAt: Number(row.last_attempt_at),
    deadLetteredAt: Number(row.dead_lettered_at),
    transport: row.transport,
  };
}
