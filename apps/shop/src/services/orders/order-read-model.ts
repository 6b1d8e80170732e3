/**
 * The CQRS read side of orders: one row per order in `shop_orders_view`, built by choreography
 * — the orders service consumes its own events from the bus (consumer group
 * `orders-read-model`, through the inbox), not inside the append. Listings and search read
 * only this table. Every update is guarded by `last_version < version`, so a redelivered or
 * replayed event changes nothing.
 *
 * Per-key order on the bus holds only while every message is handled: one that ends in the
 * dead letters (its handler kept failing while PostgreSQL was down) lets the later events of
 * its order through first. So an event that finds a gap before it (no row yet, or versions
 * missing) folds the order's stream from the event store instead — the source of truth — and
 * the late one, replayed, then changes nothing.
 */
import type { SqlDatabase, SqlExecutor, SqlTransaction } from '@trellis/core';
import type { DomainEvent } from '@trellis/eventstore';
import type { Message } from '@trellis/messaging';
import { decodeCursor, encodeCursor } from '../../contracts/common.js';
import type { OrderStatus } from '../../contracts/orders.js';
import { migrate } from '../../platform/migrate.js';

/** Consumer group of the read model. */
export const READ_MODEL_GROUP = 'orders-read-model';

interface ViewRow {
  id: string;
  customer_id: string;
  status: OrderStatus;
  total_cents: number | string;
  item_count: number | string;
  product_names: string;
  tracking_number: string | null;
  cancel_reason: string | null;
  created_at: string;
  updated_at: string;
  last_version: number | string;
}

/** A read-model row as the API shows it. */
export interface OrderSummaryView {
  id: string;
  customerId: string;
  status: OrderStatus;
  totalCents: number;
  itemCount: number;
  productNames: string;
  trackingNumber: string | null;
  cancelReason: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

function toView(r: ViewRow): OrderSummaryView {
  return {
    id: r.id,
    customerId: r.customer_id,
    status: r.status,
    totalCents: Number(r.total_cents),
    itemCount: Number(r.item_count),
    productNames: r.product_names,
    trackingNumber: r.tracking_number,
    cancelReason: r.cancel_reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    version: Number(r.last_version),
  };
}

/** Filters of a listing. */
export interface OrderListQuery {
  customerId?: string | undefined;
  status?: OrderStatus | undefined;
  q?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** An order's events from the event store, read in the handler's transaction. */
export type OrderHistory = (
  orderId: string,
  tx: SqlTransaction,
) => Promise<ReadonlyArray<Pick<DomainEvent, 'version' | 'eventType' | 'payload'>>>;

/** The read model table and its projection of order messages. */
export class OrderReadModel {
  /** `history` lets an event that finds a gap before it rebuild the row (see above). */
  constructor(
    private readonly db: SqlDatabase,
    private readonly history?: OrderHistory,
  ) {}

  /** Creates the table and indexes if needed. */
  async setup(): Promise<void> {
    await migrate(this.db, 'shop_orders_view', [
      `CREATE TABLE IF NOT EXISTS shop_orders_view (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL,
        status TEXT NOT NULL,
        total_cents BIGINT NOT NULL,
        item_count INTEGER NOT NULL,
        product_names TEXT NOT NULL,
        tracking_number TEXT,
        cancel_reason TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_version INTEGER NOT NULL
      )`,
      'CREATE INDEX IF NOT EXISTS shop_orders_view_customer ON shop_orders_view (customer_id, created_at, id)',
      'CREATE INDEX IF NOT EXISTS shop_orders_view_status ON shop_orders_view (status, created_at, id)',
    ]);
  }

  /**
   * Applies one order message inside `tx` (the inbox's transaction). Messages of one order
   * normally arrive in version order (the bus keeps per-key order); when earlier versions are
   * missing and a history is configured, the row is folded from the order's stream up to this
   * message's version.
   */
  async apply(message: Message<Record<string, unknown>>, tx: SqlTransaction): Promise<void> {
    const version = Number(message.headers.version);
    const id = message.headers.aggregateId ?? message.key;
    if (!id || !Number.isInteger(version)) return;
    const fallbackAt = new Date(message.publishedAt).toISOString();
    if (this.history && version > 1) {
      const [row] = await tx.query<{ last_version: number | string }>(
        'SELECT last_version FROM shop_orders_view WHERE id = $1',
        [id],
      );
      const current = row ? Number(row.last_version) : 0;
      if (version > current + 1) {
        for (const e of await this.history(id, tx))
          if (e.version > current && e.version <= version)
            await this.applyEvent(
              tx,
              id,
              e.version,
              e.eventType,
              e.payload as Record<string, unknown>,
              fallbackAt,
            );
        return;
      }
    }
    await this.applyEvent(tx, id, version, message.headers.eventType, message.payload, fallbackAt);
  }

  private async applyEvent(
    tx: SqlExecutor,
    id: string,
    version: number,
    eventType: string | undefined,
    p: Record<string, unknown>,
    fallbackAt: string,
  ): Promise<void> {
    const at = String(p.at ?? fallbackAt);
    const update = (sets: string, params: unknown[]) =>
      tx.execute(
        `UPDATE shop_orders_view SET ${sets}, last_version = $2, updated_at = $3 WHERE id = $1 AND last_version < $2`,
        [id, version, at, ...params],
      );
    switch (eventType) {
      case 'OrderCreated':
        await tx.execute(
          `INSERT INTO shop_orders_view (id, customer_id, status, total_cents, item_count, product_names, tracking_number, cancel_reason, created_at, updated_at, last_version)
           VALUES ($1, $2, 'draft', 0, 0, '', NULL, NULL, $3, $3, $4) ON CONFLICT (id) DO NOTHING`,
          [id, String(p.customerId), at, version],
        );
        break;
      case 'ItemAdded':
        await update(
          `item_count = item_count + $4, product_names = CASE WHEN product_names = '' THEN $5 ELSE product_names || ', ' || $5 END`,
          [Number(p.quantity), String(p.name)],
        );
        break;
      case 'OrderSubmitted':
        await update(`status = 'submitted', total_cents = $4`, [Number(p.totalCents)]);
        break;
      case 'OrderPaid':
        await update(`status = 'paid'`, []);
        break;
      case 'OrderShipped':
        await update(`status = 'shipped', tracking_number = $4`, [p.trackingNumber ?? null]);
        break;
      case 'OrderCancelled':
        await update(`status = 'cancelled', cancel_reason = $4`, [String(p.reason)]);
        break;
      default:
        await update('status = status', []);
    }
  }

  async get(id: string): Promise<OrderSummaryView | undefined> {
    const [row] = await this.db.query<ViewRow>('SELECT * FROM shop_orders_view WHERE id = $1', [id]);
    return row ? toView(row) : undefined;
  }

  /** A page of orders, newest first. */
  async list(query: OrderListQuery): Promise<{ items: OrderSummaryView[]; nextCursor: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (query.customerId) add((p) => `customer_id = ${p}`, query.customerId);
    if (query.status) add((p) => `status = ${p}`, query.status);
    if (query.q) {
      const text = query.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
      add((p) => `(LOWER(product_names) LIKE ${p} ESCAPE '\\' OR id LIKE ${p} ESCAPE '\\')`, `%${text}%`);
    }
    if (query.cursor) {
      const [createdAt, id] = decodeCursor(query.cursor, 2);
      params.push(String(createdAt), String(id));
      const n = params.length;
      where.push(`(created_at < $${n - 1} OR (created_at = $${n - 1} AND id < $${n}))`);
    }
    params.push(query.limit + 1);
    const rows = await this.db.query<ViewRow>(
      `SELECT * FROM shop_orders_view ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, query.limit).map(toView);
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > query.limit && last ? encodeCursor([last.createdAt, last.id]) : null,
    };
  }
}
