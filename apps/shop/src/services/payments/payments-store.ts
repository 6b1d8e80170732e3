/**
 * The payments service's own records: saved payment methods (brand, last four digits and how
 * the simulator treats the card — never the number), charges by key, and refunds. A unique
 * index allows at most one live (pending or succeeded) charge per order, whatever the key, so
 * an order can never be charged twice.
 */
import { type Clock, type SqlDatabase, type SqlExecutor, systemClock, uuidv7 } from '@trellis/core';
import type { Charge } from '../../contracts/payments.js';
import { migrate } from '../../platform/migrate.js';
import type { CardBehaviour } from './card-processor.js';

/** A saved (or built-in test) payment method as the service uses it. */
export interface StoredMethod {
  id: string;
  customerId: string | null;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  behaviour: CardBehaviour;
  createdAt: string;
}

interface ChargeRow {
  id: string;
  charge_key: string;
  order_id: string;
  customer_id: string;
  amount_cents: number | string;
  refunded_cents: number | string;
  status: Charge['status'];
  brand: string | null;
  last4: string | null;
  processor_ref: string | null;
  created_at: number | string;
  updated_at: number | string;
}

/** A charge with the fields only the service sees. */
export type StoredCharge = Charge & { processorRef: string | null; updatedAt: number };

function toCharge(row: ChargeRow): StoredCharge {
  return {
    id: row.id,
    key: row.charge_key,
    orderId: row.order_id,
    customerId: row.customer_id,
    amountCents: Number(row.amount_cents),
    refundedCents: Number(row.refunded_cents),
    currency: 'EUR',
    status: row.status,
    brand: row.brand,
    last4: row.last4,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    processorRef: row.processor_ref,
    updatedAt: Number(row.updated_at),
  };
}

/** Payment methods, charges and refunds in SQL. */
export class PaymentsStore {
  private constructor(
    readonly db: SqlDatabase,
    private readonly clock: Clock,
  ) {}

  /** Creates the tables if needed. */
  static async create(db: SqlDatabase, clock: Clock = systemClock): Promise<PaymentsStore> {
    await migrate(db, 'shop_payments', [
      `CREATE TABLE IF NOT EXISTS shop_payment_methods (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL,
        brand TEXT NOT NULL,
        last4 TEXT NOT NULL,
        exp_month INTEGER NOT NULL,
        exp_year INTEGER NOT NULL,
        behaviour TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      'CREATE INDEX IF NOT EXISTS shop_payment_methods_customer ON shop_payment_methods (customer_id)',
      `CREATE TABLE IF NOT EXISTS shop_charges (
        id TEXT PRIMARY KEY,
        charge_key TEXT NOT NULL UNIQUE,
        order_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        amount_cents BIGINT NOT NULL,
        refunded_cents BIGINT NOT NULL DEFAULT 0,
        status TEXT NOT NULL,
        brand TEXT,
        last4 TEXT,
        processor_ref TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE UNIQUE INDEX IF NOT EXISTS shop_charges_one_live_per_order ON shop_charges (order_id)
        WHERE status IN ('pending', 'succeeded')`,
      `CREATE TABLE IF NOT EXISTS shop_refunds (
        id TEXT PRIMARY KEY,
        refund_key TEXT NOT NULL UNIQUE,
        charge_id TEXT NOT NULL,
        amount_cents BIGINT NOT NULL,
        processor_ref TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
    ]);
    return new PaymentsStore(db, clock);
  }

  async saveMethod(
    method: Omit<StoredMethod, 'id' | 'createdAt'> & { customerId: string },
  ): Promise<StoredMethod> {
    const now = this.clock.now();
    const id = `pm_${uuidv7(now).replace(/-/g, '')}`;
    await this.db.execute(
      `INSERT INTO shop_payment_methods (id, customer_id, brand, last4, exp_month, exp_year, behaviour, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        id,
        method.customerId,
        method.brand,
        method.last4,
        method.expMonth,
        method.expYear,
        method.behaviour,
        now,
      ],
    );
    return { ...method, id, createdAt: new Date(now).toISOString() };
  }

  async methodsOf(customerId: string): Promise<StoredMethod[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      'SELECT * FROM shop_payment_methods WHERE customer_id = $1 ORDER BY created_at',
      [customerId],
    );
    return rows.map((r) => ({
      id: String(r.id),
      customerId: String(r.customer_id),
      brand: String(r.brand),
      last4: String(r.last4),
      expMonth: Number(r.exp_month),
      expYear: Number(r.exp_year),
      behaviour: r.behaviour as CardBehaviour,
      createdAt: new Date(Number(r.created_at)).toISOString(),
    }));
  }

  async method(id: string): Promise<StoredMethod | undefined> {
    const [row] = await this.db.query<{ customer_id: string }>(
      'SELECT customer_id FROM shop_payment_methods WHERE id = $1',
      [id],
    );
    if (!row) return undefined;
    return (await this.methodsOf(row.customer_id)).find((m) => m.id === id);
  }

  async chargeByKey(key: string, ex: SqlExecutor = this.db): Promise<StoredCharge | undefined> {
    const [row] = await ex.query<ChargeRow>('SELECT * FROM shop_charges WHERE charge_key = $1', [key]);
    return row ? toCharge(row) : undefined;
  }

  /** Live (pending or succeeded) charge of an order under another key, if any. */
  async liveChargeOfOrder(orderId: string, ex: SqlExecutor = this.db): Promise<StoredCharge | undefined> {
    const [row] = await ex.query<ChargeRow>(
      `SELECT * FROM shop_charges WHERE order_id = $1 AND status IN ('pending', 'succeeded')`,
      [orderId],
    );
    return row ? toCharge(row) : undefined;
  }

  /**
   * Inserts a pending charge, or resets a `failed` one with the same key to pending. Returns
   * the row as stored: when another request got there first, its row (the caller decides).
   */
  async beginCharge(input: {
    key: string;
    orderId: string;
    customerId: string;
    amountCents: number;
    brand: string;
    last4: string;
  }): Promise<{ started: boolean; charge: StoredCharge | undefined }> {
    return this.db.transaction(async (tx) => {
      const now = this.clock.now();
      const existing = await this.chargeByKey(input.key, tx);
      if (existing && existing.status !== 'failed') return { started: false, charge: existing };
      const other = await this.liveChargeOfOrder(input.orderId, tx);
      if (other) return { started: false, charge: other };
      // ON CONFLICT without a target covers the key and the one-live-charge-per-order index:
      // a concurrent twin (same key or same order) makes this a no-op, then the re-read decides.
      const changed = existing
        ? await tx.execute(
            `UPDATE shop_charges SET status = 'pending', updated_at = $2 WHERE charge_key = $1 AND status = 'failed'`,
            [input.key, now],
          )
        : await tx.execute(
            `INSERT INTO shop_charges (id, charge_key, order_id, customer_id, amount_cents, refunded_cents, status, brand, last4, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 0, 'pending', $6, $7, $8, $8) ON CONFLICT DO NOTHING`,
            [
              `pay_${uuidv7(now).replace(/-/g, '')}`,
              input.key,
              input.orderId,
              input.customerId,
              input.amountCents,
              input.brand,
              input.last4,
              now,
            ],
          );
      if (changed === 0) {
        const again =
          (await this.chargeByKey(input.key, tx)) ?? (await this.liveChargeOfOrder(input.orderId, tx));
        return { started: false, charge: again };
      }
      return { started: true, charge: await this.chargeByKey(input.key, tx) };
    });
  }

  /** Sets a charge's status (and processor reference); returns the updated row. */
  async settle(key: string, status: Charge['status'], processorRef?: string): Promise<StoredCharge> {
    await this.db.execute(
      'UPDATE shop_charges SET status = $2, processor_ref = COALESCE($3, processor_ref), updated_at = $4 WHERE charge_key = $1',
      [key, status, processorRef ?? null, this.clock.now()],
    );
    return (await this.chargeByKey(key)) as StoredCharge;
  }

  /** A `voided` tombstone: the key may never charge. False when the key already has a row. */
  async voidKey(key: string): Promise<boolean> {
    const now = this.clock.now();
    const inserted = await this.db.execute(
      `INSERT INTO shop_charges (id, charge_key, order_id, customer_id, amount_cents, refunded_cents, status, created_at, updated_at)
       VALUES ($1, $2, '', '', 0, 0, 'voided', $3, $3) ON CONFLICT (charge_key) DO NOTHING`,
      [`pay_${uuidv7(now).replace(/-/g, '')}`, key, now],
    );
    return inserted === 1;
  }

  /** Records a refund of the whole charge (once per charge) and marks the charge refunded. */
  async recordRefund(charge: StoredCharge, processorRef: string, reason: string): Promise<StoredCharge> {
    await this.db.transaction(async (tx) => {
      const now = this.clock.now();
      const inserted = await tx.execute(
        `INSERT INTO shop_refunds (id, refund_key, charge_id, amount_cents, processor_ref, reason, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (refund_key) DO NOTHING`,
        [
          `re_${uuidv7(now).replace(/-/g, '')}`,
          `refund:${charge.key}`,
          charge.id,
          charge.amountCents,
          processorRef,
          reason,
          now,
        ],
      );
      if (inserted === 1) {
        await tx.execute(
          'UPDATE shop_charges SET refunded_cents = amount_cents, updated_at = $2 WHERE id = $1',
          [charge.id, now],
        );
      }
    });
    return (await this.chargeByKey(charge.key)) as StoredCharge;
  }

  /** Charges, newest first, optionally of one order. */
  async list(orderId: string | undefined, limit: number): Promise<StoredCharge[]> {
    const rows = orderId
      ? await this.db.query<ChargeRow>(
          'SELECT * FROM shop_charges WHERE order_id = $1 ORDER BY created_at DESC LIMIT $2',
          [orderId, limit],
        )
      : await this.db.query<ChargeRow>(
          "SELECT * FROM shop_charges WHERE status <> 'voided' ORDER BY created_at DESC LIMIT $1",
          [limit],
        );
    return rows.map(toCharge);
  }
}
