import type { SqlTransaction } from '@trellis/core';
import type { DomainEvent } from '../domain-event.js';
import { type Projection, type ProjectionContext, sqlIdentifier } from '../projection.js';

/** One row of `orders_view`. */
export interface OrderView {
  id: string;
  status: 'draft' | 'submitted';
  item_count: number;
  line_count: number;
  submitted_at: string | null;
  last_position: number;
}

/**
 * The seed's `OrderReadModel` (CQRS read side) as a Trellis projection over `orders_view`.
 * Plain SQL with `$n` placeholders, so it runs on SQLite and PostgreSQL, inline or async.
 *
 * Every write is guarded by `last_position < event.position`, so applying an event twice
 * (a replay, an at-least-once delivery) changes nothing: the handler is idempotent on its own,
 * not only thanks to the runner's transaction.
 */
export class OrderReadModel implements Projection<SqlTransaction> {
  readonly name: string;
  readonly table: string;
  readonly eventTypes = ['ItemAdded', 'OrderSubmitted'] as const;

  constructor(table = 'orders_view', name = 'orders_view') {
    this.table = sqlIdentifier(table);
    this.name = name;
  }

  async setup({ tx, table }: ProjectionContext): Promise<void> {
    await tx.execute(
      `CREATE TABLE IF NOT EXISTS ${sqlIdentifier(table)} (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        item_count INTEGER NOT NULL,
        line_count INTEGER NOT NULL,
        submitted_at TEXT,
        last_position BIGINT NOT NULL
      )`,
    );
  }

  async project(event: DomainEvent, { tx, table }: ProjectionContext): Promise<void> {
    const t = sqlIdentifier(table);
    switch (event.eventType) {
      case 'ItemAdded': {
        const { quantity } = event.payload as { quantity: number };
        await tx.execute(
          `INSERT INTO ${t} (id, status, item_count, line_count, submitted_at, last_position)
           VALUES ($1, 'draft', $2, 1, NULL, $3)
           ON CONFLICT (id) DO UPDATE SET item_count = ${t}.item_count + excluded.item_count,
             line_count = ${t}.line_count + 1, last_position = excluded.last_position
           WHERE ${t}.last_position < excluded.last_position`,
          [event.aggregateId, quantity, event.position],
        );
        break;
      }
      case 'OrderSubmitted':
        // The seed's statement, plus the idempotency guard.
        await tx.execute(
          `UPDATE ${t} SET status = $1, submitted_at = $2, last_position = $4 WHERE id = $3 AND last_position < $4`,
          ['submitted', event.timestamp.toISOString(), event.aggregateId, event.position],
        );
        break;
    }
  }

  /** Reads one order's row (a query of the read side). */
  async get(db: Pick<SqlTransaction, 'query'>, id: string): Promise<OrderView | undefined> {
    const rows = await db.query<OrderView>(`SELECT * FROM ${this.table} WHERE id = $1`, [id]);
    const row = rows[0];
    return row ? { ...row, last_position: Number(row.last_position) } : undefined;
  }
}
