/**
 * Stock and reservations in the inventory service's own database. Every change is one
 * transaction of conditional updates, so stock can never go negative (a reservation takes
 * units only `WHERE available >= quantity`, and CHECK constraints back that up) and a key is
 * never reserved twice (the reservation row is claimed first, on a unique key).
 *
 * Conservation: `initial = available + reserved + shipped` for every product, always.
 */
import {
  type Clock,
  ConflictError,
  NotFoundError,
  type SqlDatabase,
  type SqlTransaction,
  systemClock,
  uuidv7,
} from '@trellis/core';
import type { Reservation, StockLevel } from '../../contracts/inventory.js';
import { OutOfStockError } from '../../errors.js';
import { migrate } from '../../platform/migrate.js';

interface StockRow {
  product_id: string;
  available: number | string;
  reserved: number | string;
  shipped: number | string;
  initial: number | string;
}

interface ReservationRow {
  id: string;
  res_key: string;
  order_id: string | null;
  status: Reservation['status'];
  items: string;
}

type Item = { productId: string; quantity: number };

function toStock(row: StockRow): StockLevel {
  return {
    productId: row.product_id,
    available: Number(row.available),
    reserved: Number(row.reserved),
    shipped: Number(row.shipped),
    initial: Number(row.initial),
  };
}

function toReservation(row: ReservationRow): Reservation {
  return {
    id: row.id,
    key: row.res_key,
    orderId: row.order_id,
    status: row.status,
    items: JSON.parse(row.items) as Item[],
  };
}

/** Sums quantities per product and sorts by product id (a fixed lock order: no deadlocks). */
function normalise(items: readonly Item[]): Item[] {
  const sums = new Map<string, number>();
  for (const i of items) sums.set(i.productId, (sums.get(i.productId) ?? 0) + i.quantity);
  return [...sums]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([productId, quantity]) => ({ productId, quantity }));
}

/** Stock levels and the reservation state machine (reserved → committed, or released). */
export class InventoryStore {
  private constructor(
    private readonly db: SqlDatabase,
    private readonly clock: Clock,
  ) {}

  /** Creates the tables if needed. */
  static async create(db: SqlDatabase, clock: Clock = systemClock): Promise<InventoryStore> {
    await migrate(db, 'shop_inventory', [
      `CREATE TABLE IF NOT EXISTS shop_stock (
        product_id TEXT PRIMARY KEY,
        available BIGINT NOT NULL CHECK (available >= 0),
        reserved BIGINT NOT NULL CHECK (reserved >= 0),
        shipped BIGINT NOT NULL CHECK (shipped >= 0),
        initial BIGINT NOT NULL
      )`,
      `CREATE TABLE IF NOT EXISTS shop_reservations (
        id TEXT PRIMARY KEY,
        res_key TEXT NOT NULL UNIQUE,
        order_id TEXT,
        status TEXT NOT NULL,
        items TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      'CREATE INDEX IF NOT EXISTS shop_reservations_order ON shop_reservations (order_id)',
    ]);
    return new InventoryStore(db, clock);
  }

  async stock(productId: string): Promise<StockLevel | undefined> {
    const [row] = await this.db.query<StockRow>('SELECT * FROM shop_stock WHERE product_id = $1', [
      productId,
    ]);
    return row ? toStock(row) : undefined;
  }

  /** Stock of `ids` (all products when absent), by product id. */
  async stockOf(ids?: readonly string[]): Promise<StockLevel[]> {
    if (ids && ids.length === 0) return [];
    const rows = ids
      ? await this.db.query<StockRow>(
          `SELECT * FROM shop_stock WHERE product_id IN (${ids.map((_, i) => `$${i + 1}`).join(', ')}) ORDER BY product_id`,
          [...ids],
        )
      : await this.db.query<StockRow>('SELECT * FROM shop_stock ORDER BY product_id');
    return rows.map(toStock);
  }

  /** Adds `quantity` units (creating the stock record); counts them in `initial`. */
  async restock(productId: string, quantity: number): Promise<StockLevel> {
    await this.db.execute(
      `INSERT INTO shop_stock (product_id, available, reserved, shipped, initial) VALUES ($1, $2, 0, 0, $2)
       ON CONFLICT (product_id) DO UPDATE SET available = shop_stock.available + excluded.available,
         initial = shop_stock.initial + excluded.initial`,
      [productId, quantity],
    );
    return (await this.stock(productId)) as StockLevel;
  }

  /**
   * Reserves every item or none under `key`. The same key again returns the same reservation.
   *
   * Throws `OutOfStockError` (nothing reserved) and `ConflictError` when `key` was released
   * before it was ever reserved (a compensation overtook a slow reserve).
   */
  reserve(key: string, orderId: string, items: readonly Item[]): Promise<Reservation> {
    const lines = normalise(items);
    return this.db.transaction(async (tx) => {
      const now = this.clock.now();
      const id = uuidv7(now);
      // Claim the key first: a concurrent duplicate waits on the unique key, then finds it.
      const claimed = await tx.execute(
        `INSERT INTO shop_reservations (id, res_key, order_id, status, items, created_at, updated_at)
         VALUES ($1, $2, $3, 'reserved', $4, $5, $5) ON CONFLICT (res_key) DO NOTHING`,
        [id, key, orderId, JSON.stringify(lines), now],
      );
      if (claimed === 0) {
        const existing = await this.byKey(tx, key);
        if (existing.status === 'released') {
          throw new ConflictError(`Reservation key ${key} was released`, {
            details: { key, status: 'released' },
          });
        }
        return existing;
      }
      for (const { productId, quantity } of lines) {
        const taken = await tx.execute(
          `UPDATE shop_stock SET available = available - $2, reserved = reserved + $2
           WHERE product_id = $1 AND available >= $2`,
          [productId, quantity],
        );
        if (taken === 0) {
          const [row] = await tx.query<StockRow>('SELECT * FROM shop_stock WHERE product_id = $1', [
            productId,
          ]);
          throw new OutOfStockError(productId, quantity, row ? Number(row.available) : 0);
        }
      }
      return { id, key, orderId, status: 'reserved', items: lines };
    });
  }

  /**
   * Returns a reservation's units to stock: reserved units, or shipped ones when the
   * reservation was committed (an order undone after shipping). Idempotent; when nothing was
   * reserved under `key` yet, leaves a tombstone so a late reserve with that key is refused.
   */
  release(key: string): Promise<Reservation> {
    return this.db.transaction(async (tx) => {
      const now = this.clock.now();
      const tomb = await tx.execute(
        `INSERT INTO shop_reservations (id, res_key, order_id, status, items, created_at, updated_at)
         VALUES ($1, $2, NULL, 'released', '[]', $3, $3) ON CONFLICT (res_key) DO NOTHING`,
        [uuidv7(now), key, now],
      );
      if (tomb === 1) return this.byKey(tx, key);
      for (const from of ['reserved', 'committed'] as const) {
        const moved = await tx.execute(
          `UPDATE shop_reservations SET status = 'released', updated_at = $2 WHERE res_key = $1 AND status = $3`,
          [key, now, from],
        );
        if (moved === 0) continue;
        const reservation = await this.byKey(tx, key);
        const column = from === 'reserved' ? 'reserved' : 'shipped';
        for (const { productId, quantity } of reservation.items) {
          await tx.execute(
            `UPDATE shop_stock SET available = available + $2, ${column} = ${column} - $2 WHERE product_id = $1`,
            [productId, quantity],
          );
        }
        return reservation;
      }
      return this.byKey(tx, key);
    });
  }

  /**
   * Marks a reservation's units as shipped. Idempotent.
   *
   * Throws `NotFoundError` for an unknown key, `ConflictError` when it was released.
   */
  commit(key: string): Promise<Reservation> {
    return this.db.transaction(async (tx) => {
      const moved = await tx.execute(
        `UPDATE shop_reservations SET status = 'committed', updated_at = $2 WHERE res_key = $1 AND status = 'reserved'`,
        [key, this.clock.now()],
      );
      const reservation = await this.byKey(tx, key);
      if (moved === 1) {
        for (const { productId, quantity } of reservation.items) {
          await tx.execute(
            'UPDATE shop_stock SET reserved = reserved - $2, shipped = shipped + $2 WHERE product_id = $1',
            [productId, quantity],
          );
        }
      } else if (reservation.status === 'released') {
        throw new ConflictError(`Reservation ${key} was released`, { details: { key, status: 'released' } });
      }
      return reservation;
    });
  }

  /** Reservations of an order (for the invariant checker and admins). */
  async reservationsOf(orderId: string): Promise<Reservation[]> {
    const rows = await this.db.query<ReservationRow>(
      'SELECT * FROM shop_reservations WHERE order_id = $1 ORDER BY created_at',
      [orderId],
    );
    return rows.map(toReservation);
  }

  private async byKey(tx: SqlTransaction, key: string): Promise<Reservation> {
    const [row] = await tx.query<ReservationRow>('SELECT * FROM shop_reservations WHERE res_key = $1', [key]);
    if (!row) throw new NotFoundError(`No reservation with key ${key}`);
    return toReservation(row);
  }
}
