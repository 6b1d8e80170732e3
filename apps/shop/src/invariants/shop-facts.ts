/**
 * Reads everything the invariants talk about from the services' databases into plain data:
 * every order rebuilt from its event stream, its saga, its read-model row, the charges,
 * refunds and the card processor's ledger, stock and reservations, shipments, notifications,
 * outbox backlogs and dead letters.
 */
import type { SqlDatabase } from '@trellis/core';
import { NOTIFICATIONS_GROUP } from '../services/notifications/notifications-service.js';
import { OrderAggregate } from '../services/orders/order-aggregate.js';
import type { OrderEvent } from '../services/orders/order-events.js';
import { READ_MODEL_GROUP } from '../services/orders/order-read-model.js';
import { rowsOrNone, type ShopDatabases } from './shop-databases.js';

/** One order as its events say, plus what its event stream contains. */
export interface OrderFact {
  id: string;
  state: OrderAggregate['state'];
  version: number;
  /** Ids of its events by type (for delivery checks). */
  events: Array<{ id: string; type: string }>;
}

/** Everything the checks look at. */
export interface ShopFacts {
  orders: Map<string, OrderFact>;
  sagas: Map<string, { id: string; status: string; error: { code?: string; step?: string } | null }>;
  readModel: Map<string, { status: string; version: number }>;
  charges: Array<{
    key: string;
    orderId: string;
    status: string;
    amountCents: number;
    refundedCents: number;
  }>;
  ledger: Array<{ key: string; kind: 'charge' | 'refund'; orderId: string; amountCents: number }>;
  stock: Array<{ productId: string; available: number; reserved: number; shipped: number; initial: number }>;
  reservations: Array<{
    key: string;
    orderId: string | null;
    status: string;
    items: Array<{ productId: string; quantity: number }>;
  }>;
  shipments: Array<{ key: string; orderId: string | null; status: string }>;
  notifiedEventIds: Set<string>;
  /** Per consumer group of the order events: the message ids its inbox marked handled. */
  inbox: Map<string, Set<string>>;
  outboxBacklog: number;
  deadLetters: Array<{ service: string; group: string; topic: string; error: string; messageId: string }>;
}

/** The consumer groups that handle every order event through an inbox, and whose database holds it. */
export const ORDER_EVENT_GROUPS = [
  { group: READ_MODEL_GROUP, service: 'orders' },
  { group: NOTIFICATIONS_GROUP, service: 'notifications' },
] as const;

const n = (v: unknown) => Number(v ?? 0);

async function readOrders(db: SqlDatabase): Promise<Map<string, OrderFact>> {
  const rows = await rowsOrNone<{
    stream_id: string;
    id: string;
    version: number | string;
    event_type: string;
    payload: string | object;
  }>(
    db,
    'SELECT stream_id, id, version, event_type, payload FROM trellis_events ORDER BY stream_id, version',
  );
  const byStream = new Map<string, typeof rows>();
  for (const r of rows) byStream.set(r.stream_id, [...(byStream.get(r.stream_id) ?? []), r]);
  const orders = new Map<string, OrderFact>();
  for (const [id, events] of byStream) {
    const aggregate = OrderAggregate.fromEvents(
      events.map((e) => ({
        eventType: e.event_type,
        payload: typeof e.payload === 'string' ? JSON.parse(e.payload) : e.payload,
        version: n(e.version),
      })) as OrderEvent[],
      id,
    );
    orders.set(id, {
      id,
      state: aggregate.state,
      version: aggregate.version,
      events: events.map((e) => ({ id: e.id, type: e.event_type })),
    });
  }
  return orders;
}

async function count(db: SqlDatabase, table: string): Promise<number> {
  const [row] = await rowsOrNone<{ c: number | string }>(db, `SELECT COUNT(*) AS c FROM ${table}`);
  return n(row?.c);
}

/** Reads the facts. */
export async function readShopFacts(dbs: ShopDatabases, busDb?: SqlDatabase): Promise<ShopFacts> {
  const [orders, sagaRows, viewRows, charges, ledger, stock, reservations, shipments, notifications] =
    await Promise.all([
      readOrders(dbs.orders),
      rowsOrNone<{ id: string; status: string; error: string | object | null }>(
        dbs.orders,
        'SELECT id, status, error FROM trellis_sagas',
      ),
      rowsOrNone<{ id: string; status: string; last_version: number | string }>(
        dbs.orders,
        'SELECT id, status, last_version FROM shop_orders_view',
      ),
      rowsOrNone<Record<string, unknown>>(
        dbs.payments,
        "SELECT * FROM shop_charges WHERE status <> 'voided'",
      ),
      rowsOrNone<Record<string, unknown>>(dbs.payments, 'SELECT * FROM shop_processor_ledger'),
      rowsOrNone<Record<string, unknown>>(dbs.inventory, 'SELECT * FROM shop_stock'),
      rowsOrNone<Record<string, unknown>>(dbs.inventory, 'SELECT * FROM shop_reservations'),
      rowsOrNone<Record<string, unknown>>(
        dbs.shipping,
        'SELECT ship_key, order_id, status FROM shop_shipments',
      ),
      rowsOrNone<{ event_id: string }>(dbs.notifications, 'SELECT event_id FROM shop_notifications'),
    ]);
  let outboxBacklog = 0;
  const deadLetters: ShopFacts['deadLetters'] = [];
  const deadLetterSources: Array<[string, SqlDatabase]> = [
    ...Object.entries(dbs).filter(([k]) => k !== 'close'),
    ...(busDb ? [['bus', busDb] as [string, SqlDatabase]] : []),
  ] as Array<[string, SqlDatabase]>;
  for (const [service, db] of deadLetterSources) {
    outboxBacklog += await count(db, 'trellis_outbox');
    const rows = await rowsOrNone<{ group_name: string; topic: string; error: string; message_id: string }>(
      db,
      'SELECT group_name, topic, error, message_id FROM trellis_dead_letters',
    );
    for (const r of rows)
      deadLetters.push({
        service,
        group: r.group_name,
        topic: r.topic,
        error: String(r.error).slice(0, 200),
        messageId: String(r.message_id),
      });
  }
  const inbox = new Map<string, Set<string>>();
  for (const { group, service } of ORDER_EVENT_GROUPS) {
    const rows = await rowsOrNone<{ message_id: string }>(
      dbs[service],
      'SELECT message_id FROM trellis_inbox WHERE group_name = $1',
      [group],
    );
    inbox.set(group, new Set(rows.map((r) => String(r.message_id))));
  }
  const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
  return {
    orders,
    sagas: new Map(
      sagaRows.map((r) => [
        r.id,
        {
          id: r.id,
          status: r.status,
          error: (r.error ? parse(r.error) : null) as { code?: string; step?: string } | null,
        },
      ]),
    ),
    readModel: new Map(viewRows.map((r) => [r.id, { status: r.status, version: n(r.last_version) }])),
    charges: charges.map((r) => ({
      key: String(r.charge_key),
      orderId: String(r.order_id),
      status: String(r.status),
      amountCents: n(r.amount_cents),
      refundedCents: n(r.refunded_cents),
    })),
    ledger: ledger.map((r) => ({
      key: String(r.idem_key),
      kind: r.kind as 'charge' | 'refund',
      orderId: String(r.order_id),
      amountCents: n(r.amount_cents),
    })),
    stock: stock.map((r) => ({
      productId: String(r.product_id),
      available: n(r.available),
      reserved: n(r.reserved),
      shipped: n(r.shipped),
      initial: n(r.initial),
    })),
    reservations: reservations.map((r) => ({
      key: String(r.res_key),
      orderId: (r.order_id as string | null) ?? null,
      status: String(r.status),
      items: parse(r.items) as Array<{ productId: string; quantity: number }>,
    })),
    shipments: shipments.map((r) => ({
      key: String(r.ship_key),
      orderId: (r.order_id as string | null) ?? null,
      status: String(r.status),
    })),
    notifiedEventIds: new Set(notifications.map((r) => r.event_id)),
    inbox,
    outboxBacklog,
    deadLetters,
  };
}
