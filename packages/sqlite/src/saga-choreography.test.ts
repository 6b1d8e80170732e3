/**
 * The seed's choreography end to end on the embedded stack: a durable SQLite bus file, an
 * order service and a payment service each with their own database (inbox + outbox), and a
 * process manager that watches the payment flow with a deadline on an injected clock.
 *
 * order.created → payment.requested → payment.completed (order paid), and
 * payment.failed → order cancelled → order.cancelled; a stuck flow (no payment answer) is
 * detected by the deadline and compensated the same way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, type SqlTransaction } from '@trellis/core';
import type { Message, Subscription } from '@trellis/messaging';
import { defineEvents, defineProcessManager, eventHandlers, ProcessManager } from '@trellis/saga';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SqliteDatabase } from './database.js';
import { SqliteInbox } from './inbox.js';
import { SqliteOutbox } from './outbox.js';
import { SqliteProcessStore } from './process-store.js';
import { SqliteBus } from './sqlite-bus.js';

const shop = defineEvents({
  'order.created': z.object({ orderId: z.string(), total: z.number().positive() }),
  'payment.requested': z.object({ orderId: z.string(), amount: z.number().positive() }),
  'payment.completed': z.object({ orderId: z.string() }),
  'payment.failed': z.object({ orderId: z.string(), reason: z.string() }),
  'order.cancelled': z.object({ orderId: z.string() }),
});

/** An honest card processor simulator: approves, declines, and remembers charges by key. */
class PaymentGateway {
  readonly charges = new Map<string, number>();
  declined = new Set<string>();
  async charge(orderId: string, amount: number, idempotencyKey: string): Promise<void> {
    if (this.declined.has(orderId)) throw new Error('card declined');
    if (!this.charges.has(idempotencyKey)) this.charges.set(idempotencyKey, amount);
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function shopStack() {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-choreo-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const bus = await SqliteBus.open(join(dir, 'bus.db'), { pollIntervalMs: 5 });
  cleanups.push(() => bus.close());
  const service = async (name: string) => {
    const db = SqliteDatabase.open(join(dir, `${name}.db`));
    const outbox = await SqliteOutbox.create(db);
    const relay = outbox.startRelay(bus, { pollIntervalMs: 20 });
    cleanups.push(async () => {
      await relay.stop();
      await db.close();
    });
    return { db, outbox, inbox: await SqliteInbox.create(db) };
  };
  const orders = await service('orders');
  const payments = await service('payments');
  await orders.db.execute(
    'CREATE TABLE orders (id TEXT PRIMARY KEY, total REAL NOT NULL, status TEXT NOT NULL)',
  );

  // Order service: the seed's OrderEventHandler, plus marking paid orders.
  const orderHandlers = eventHandlers(shop)
    .on('order.created', (e, ctx) =>
      ctx.publish('payment.requested', { orderId: e.orderId, amount: e.total }, { key: e.orderId }),
    )
    .on('payment.completed', async (e, ctx) => {
      await ctx.tx.execute("UPDATE orders SET status = 'paid' WHERE id = $1", [e.orderId]);
    })
    .on('payment.failed', async (e, ctx) => {
      // Compensating transaction: cancel the order, tell everyone.
      await ctx.tx.execute("UPDATE orders SET status = 'cancelled' WHERE id = $1 AND status <> 'cancelled'", [
        e.orderId,
      ]);
      await ctx.publish('order.cancelled', { orderId: e.orderId }, { key: e.orderId });
    });
  const gateway = new PaymentGateway();
  // Payment service: the seed's PaymentEventHandler; the message id is the charge's idempotency key.
  const paymentHandlers = eventHandlers(shop).on('payment.requested', async (e, ctx) => {
    try {
      await gateway.charge(e.orderId, e.amount, ctx.message?.id ?? e.orderId);
      await ctx.publish('payment.completed', { orderId: e.orderId }, { key: e.orderId });
    } catch (error) {
      await ctx.publish(
        'payment.failed',
        { orderId: e.orderId, reason: (error as Error).message },
        { key: e.orderId },
      );
    }
  });

  // The process manager: a flow per order; no payment answer within 30 s means stuck.
  const clock = new ManualClock(Date.now());
  const watch = defineProcessManager({
    name: 'payment-watch',
    catalog: shop,
    correlate: {
      'order.created': (e) => e.orderId,
      'payment.completed': (e) => e.orderId,
      'payment.failed': (e) => e.orderId,
    },
    startedBy: ['order.created'],
    initialState: () => ({ stage: 'awaiting payment' as string }),
    on: {
      'order.created': (_e, ctx) => ctx.deadlineIn(30_000),
      'payment.completed': (_e, ctx) => {
        ctx.state = { stage: 'paid' };
        ctx.complete('paid');
      },
      'payment.failed': (e, ctx) => {
        ctx.state = { stage: `failed: ${e.reason}` };
        ctx.complete('cancelled');
      },
    },
    async onDeadline(ctx) {
      // Compensate the stuck flow through the same path as a declined payment.
      await ctx.publish(
        'payment.failed',
        { orderId: ctx.correlationId, reason: 'payment timed out' },
        { key: ctx.correlationId },
      );
      ctx.complete('timed-out');
    },
  });
  const pm = new ProcessManager<typeof shop, { stage: string }, SqlTransaction>(watch, {
    store: await SqliteProcessStore.create(orders.db),
    outbox: orders.outbox,
    clock,
  });
  await pm.subscribe({ bus, inbox: orders.inbox });
  pm.startDeadlines({ intervalMs: 1000 });
  cleanups.push(() => pm.stop());

  await orderHandlers.subscribe({ bus, inbox: orders.inbox, outbox: orders.outbox, group: 'orders' });
  let paymentSubs: Subscription[] = await paymentHandlers.subscribe({
    bus,
    inbox: payments.inbox,
    outbox: payments.outbox,
    group: 'payments',
  });
  const cancelled: Message[] = [];
  await bus.subscribe('order.cancelled', (m) => void cancelled.push(m), { group: 'audit' });

  const placeOrder = (orderId: string, total: number) =>
    orders.db.transaction(async (tx) => {
      await tx.execute("INSERT INTO orders (id, total, status) VALUES ($1, $2, 'created')", [orderId, total]);
      await orders.outbox.enqueue(tx, [
        {
          topic: 'order.created',
          key: orderId,
          payload: { orderId, total },
          headers: { correlationId: `req-${orderId}` },
        },
      ]);
    });
  const status = async (orderId: string) =>
    (await orders.db.query<{ status: string }>('SELECT status FROM orders WHERE id = $1', [orderId]))[0]
      ?.status;
  return {
    bus,
    pm,
    clock,
    gateway,
    cancelled,
    placeOrder,
    status,
    stopPayments: async () => {
      for (const s of paymentSubs) await s.close();
      paymentSubs = [];
    },
  };
}

describe('choreography on SQLite: the seed flow end to end', () => {
  it('order.created → payment.requested → payment.completed: the order is paid, the flow done', async () => {
    const s = await shopStack();
    await s.placeOrder('o1', 42);
    await expect.poll(() => s.status('o1'), { timeout: 10_000 }).toBe('paid');
    await expect.poll(async () => (await s.pm.get('o1'))?.outcome, { timeout: 5000 }).toBe('paid');
    expect([...s.gateway.charges.values()]).toEqual([42]);
    const flow = await s.pm.get('o1');
    expect(flow).toMatchObject({ status: 'done', state: { stage: 'paid' }, deadlineAt: null });
    expect(flow?.history.map((h) => h.topic)).toEqual(['order.created', 'payment.completed']);
    expect(s.cancelled).toEqual([]);
  });

  it('payment.failed → order cancelled → order.cancelled published, with the correlation id carried along', async () => {
    const s = await shopStack();
    s.gateway.declined.add('o2');
    await s.placeOrder('o2', 10);
    await expect.poll(() => s.status('o2'), { timeout: 10_000 }).toBe('cancelled');
    await expect.poll(() => s.cancelled.length, { timeout: 5000 }).toBe(1);
    expect(s.cancelled[0]).toMatchObject({
      payload: { orderId: 'o2' },
      key: 'o2',
      headers: { correlationId: 'req-o2' },
    });
    await expect.poll(async () => (await s.pm.get('o2'))?.outcome, { timeout: 5000 }).toBe('cancelled');
    expect((await s.pm.get('o2'))?.state).toEqual({ stage: 'failed: card declined' });
  });

  it('a stuck flow (payments down) is detected by its deadline and compensated', async () => {
    const s = await shopStack();
    await s.stopPayments();
    await s.placeOrder('o3', 99);
    await expect
      .poll(async () => (await s.pm.get('o3'))?.deadlineAt, { timeout: 10_000 })
      .toBe(s.clock.now() + 30_000);
    await s.clock.advance(29_000);
    expect(await s.status('o3')).toBe('created');
    await s.clock.advance(2_000);
    await expect.poll(() => s.status('o3'), { timeout: 10_000 }).toBe('cancelled');
    await expect
      .poll(() => s.cancelled.map((m) => m.payload), { timeout: 5000 })
      .toEqual([{ orderId: 'o3' }]);
    const flow = await s.pm.get('o3');
    expect(flow).toMatchObject({ status: 'done', outcome: 'timed-out' });
    expect(flow?.history.map((h) => h.topic)).toContain('deadline');
    // Its own payment.failed came back to the manager too, and was ignored: the flow had ended.
    await expect
      .poll(async () => (await s.pm.get('o3'))?.history.at(-1)?.note, { timeout: 5000 })
      .toBe('ignored (flow timed-out)');
    expect(s.gateway.charges.size).toBe(0);
  });

  it('a redelivered payment.failed is handled once (inbox): one cancellation, one order.cancelled', async () => {
    const s = await shopStack();
    await s.placeOrder('o4', 5);
    await expect.poll(() => s.status('o4'), { timeout: 10_000 }).toBe('paid');
    const duplicate = {
      topic: 'payment.failed',
      id: 'dup-1',
      key: 'o4',
      payload: { orderId: 'o4', reason: 'chargeback' },
    };
    await s.bus.publishBatch([duplicate, duplicate]);
    await expect.poll(() => s.cancelled.length, { timeout: 10_000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(s.cancelled).toHaveLength(1);
  });
});
