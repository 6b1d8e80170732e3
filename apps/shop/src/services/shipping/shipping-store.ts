/**
 * Shipments in the shipping service's own database, keyed by the saga's idempotency key:
 * creating twice with one key yields one shipment; cancelling a key that has no shipment yet
 * leaves a cancelled tombstone, so a late create with that key is refused.
 */
import { type Clock, ConflictError, type SqlDatabase, systemClock, uuidv7 } from '@trellis/core';
import type { Address } from '../../contracts/common.js';
import type { Shipment } from '../../contracts/shipping.js';
import { migrate } from '../../platform/migrate.js';

interface ShipmentRow {
  id: string;
  ship_key: string;
  order_id: string | null;
  status: Shipment['status'];
  carrier: string;
  tracking_number: string | null;
  address: string | null;
  items: string;
  created_at: number | string;
}

function toShipment(row: ShipmentRow): Shipment {
  return {
    id: row.id,
    key: row.ship_key,
    orderId: row.order_id,
    status: row.status,
    carrier: row.carrier,
    trackingNumber: row.tracking_number,
    address: row.address ? (JSON.parse(row.address) as Address) : null,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}

/** The shipments table. */
export class ShippingStore {
  private constructor(
    private readonly db: SqlDatabase,
    private readonly clock: Clock,
  ) {}

  /** Creates the table if needed. */
  static async create(db: SqlDatabase, clock: Clock = systemClock): Promise<ShippingStore> {
    await migrate(db, 'shop_shipments', [
      `CREATE TABLE IF NOT EXISTS shop_shipments (
        id TEXT PRIMARY KEY,
        ship_key TEXT NOT NULL UNIQUE,
        order_id TEXT,
        status TEXT NOT NULL,
        carrier TEXT NOT NULL,
        tracking_number TEXT,
        address TEXT,
        items TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      'CREATE INDEX IF NOT EXISTS shop_shipments_order ON shop_shipments (order_id)',
    ]);
    return new ShippingStore(db, clock);
  }

  /**
   * Creates the shipment for `key` (or returns the one created before).
   *
   * Throws `ConflictError` when `key` was cancelled before it was used.
   */
  async create(
    key: string,
    input: { orderId: string; address: Address; items: Array<{ productId: string; quantity: number }> },
  ): Promise<Shipment> {
    const now = this.clock.now();
    const id = uuidv7(now);
    const tracking = `TRL${id.replace(/-/g, '').slice(-12).toUpperCase()}`;
    await this.db.execute(
      `INSERT INTO shop_shipments (id, ship_key, order_id, status, carrier, tracking_number, address, items, created_at, updated_at)
       VALUES ($1, $2, $3, 'created', 'trellis-post', $4, $5, $6, $7, $7) ON CONFLICT (ship_key) DO NOTHING`,
      [id, key, input.orderId, tracking, JSON.stringify(input.address), JSON.stringify(input.items), now],
    );
    const shipment = (await this.byKey(key)) as Shipment;
    if (shipment.status === 'cancelled' && shipment.orderId === null) {
      throw new ConflictError(`Shipment key ${key} was cancelled`, { details: { key, status: 'cancelled' } });
    }
    return shipment;
  }

  /** Cancels the shipment of `key` (idempotent; a tombstone when none exists). */
  async cancel(key: string): Promise<Shipment> {
    const now = this.clock.now();
    await this.db.execute(
      `INSERT INTO shop_shipments (id, ship_key, order_id, status, carrier, tracking_number, address, items, created_at, updated_at)
       VALUES ($1, $2, NULL, 'cancelled', 'trellis-post', NULL, NULL, '[]', $3, $3) ON CONFLICT (ship_key) DO NOTHING`,
      [uuidv7(now), key, now],
    );
    await this.db.execute(
      `UPDATE shop_shipments SET status = 'cancelled', updated_at = $2 WHERE ship_key = $1 AND status = 'created'`,
      [key, now],
    );
    return (await this.byKey(key)) as Shipment;
  }

  async byKey(key: string): Promise<Shipment | undefined> {
    const [row] = await this.db.query<ShipmentRow>('SELECT * FROM shop_shipments WHERE ship_key = $1', [key]);
    return row ? toShipment(row) : undefined;
  }

  /** Shipments, newest first, optionally of one order (tombstones left out). */
  async list(orderId: string | undefined, limit: number): Promise<Shipment[]> {
    const rows = orderId
      ? await this.db.query<ShipmentRow>(
          'SELECT * FROM shop_shipments WHERE order_id = $1 ORDER BY created_at DESC LIMIT $2',
          [orderId, limit],
        )
      : await this.db.query<ShipmentRow>(
          'SELECT * FROM shop_shipments WHERE order_id IS NOT NULL ORDER BY created_at DESC LIMIT $1',
          [limit],
        );
    return rows.map(toShipment);
  }
}
