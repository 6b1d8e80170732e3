/**
 * Choreography in memory: the seed's OrderEventHandler and PaymentEventHandler written with
 * `@EventHandler` (this package compiles with `experimentalDecorators`), on the in-memory bus
 * with the in-memory inbox and outbox, plus the process manager's deadline on a ManualClock.
 */
import { ManualClock } from '@trellis/core';
import { InMemoryBus, InMemoryInbox, type InMemoryInboxTransaction, type Message } from '@trellis/messaging';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ChoreographyContext } from './context.js';
import { eventHandlerDecorator, handlersFrom, EventHandler as UntypedEventHandler } from './decorator.js';
import { defineEvents, type EventsOf, parseEvent } from './events.js';
import { eventHandlers } from './handlers.js';
import { InMemoryOutbox, MemoryProcessStore } from './memory.js';
import {
  defineProcessManager,
  isProcessNotStartedError,
  ProcessManager,
  ProcessNotStartedError,
} from './process-manager.js';

const shop = defineEvents({
  'order.created': z.object({ orderId: z.string(), total: z.number() }),
  'payment.requested': z.object({ orderId: z.string(), amount: z.number() }),
  'payment.completed': z.object({ orderId: z.string() }),
  'payment.failed': z.object({ orderId: z.string(), reason: z.string() }),
  'order.cancelled': z.object({ orderId: z.string() }),
});
type Shop = EventsOf<typeof shop>;
type Ctx = ChoreographyContext<typeof shop, InMemoryInboxTransaction>;
const EventHandler = eventHandlerDecorator<typeof shop, InMemoryInboxTransaction>();

/** The seed's order service, with an in-memory repository. */
class OrderEventHandler {
  readonly orders = new Map<string, { status: string }>();

  @EventHandler('order.created')
  async onOrderCreated(event: Shop['order.created'], ctx: Ctx) {
    // Emit next event in chain
    await ctx.publish(
      'payment.requested',
      { orderId: event.orderId, amount: event.total },
      { key: event.orderId },
    );
  }

  @EventHandler('payment.failed')
  async onPaymentFailed(event: Shop['payment.failed'], ctx: Ctx) {
    // Compensating transaction (applied only if the inbox transaction commits)
    ctx.tx.afterCommit(() => this.orders.set(event.orderId, { status: 'cancelled' }));
    await ctx.publish('order.cancelled', { orderId: event.orderId }, { key: event.orderId });
  }
}

/** The seed's payment service over a simulated gateway. */
class PaymentEventHandler {
  readonly declined = new Set<string>();
  readonly charged: string[] = [];

  @EventHandler('payment.requested')
  async onPaymentRequested(event: Shop['payment.requested'], ctx: Ctx) {
    try {
      if (this.declined.has(event.orderId)) throw new Error('insufficient funds');
      this.charged.push(event.orderId);
      await ctx.publish('payment.completed', { orderId: event.orderId }, { key: event.orderId });
    } catch (error) {
      await ctx.publish(
        'payment.failed',
        { orderId: event.orderId, reason: (error as Error).message },
        { key: event.orderId },
      );
    }
  }
}

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function stack() {
  const bus = new InMemoryBus();
  closers.push(() => bus.close());
  const outbox = new InMemoryOutbox(bus);
  const orders = new OrderEventHandler();
  const payments = new PaymentEventHandler();
  await handlersFrom<typeof shop, InMemoryInboxTransaction>(orders, shop).subscribe({
    bus,
    inbox: new InMemoryInbox(),
    outbox,
    group: 'orders',
  });
  const paymentSubs = await handlersFrom<typeof shop, InMemoryInboxTransaction>(payments, shop).subscribe({
    bus,
    inbox: new InMemoryInbox(),
    outbox,
    group: 'payments',
  });
  const seen: Message[] = [];
  await bus.subscribe('>', (m) => void seen.push(m), { group: 'audit' });
  const clock = new ManualClock(1_000_000);
  const store = new MemoryProcessStore();
  const expired: string[] = [];
  const pm = new ProcessManager(
    defineProcessManager<typeof shop, { stage: string }, InMemoryInboxTransaction>({
      name: 'payment-watch',
      catalog: shop,
      correlate: {
        'order.created': (e) => e.orderId,
        'payment.completed': (e) => e.orderId,
        'payment.failed': (e) => e.orderId,
      },
      startedBy: ['order.created'],
      initialState: () => ({ stage: 'awaiting payment' }),
      on: {
        'order.created': (_e, ctx) => ctx.deadlineIn(30_000),
        'payment.completed': (_e, ctx) => ctx.complete('paid'),
        'payment.failed': (_e, ctx) => ctx.complete('cancelled'),
      },
      async onDeadline(ctx) {
        await ctx.publish(
          'payment.failed',
          { orderId: ctx.correlationId, reason: 'timed out' },
          { key: ctx.correlationId },
        );
        ctx.complete('timed-out');
      },
    }),
    { store, outbox, clock, onExpired: (i) => expired.push(i.correlationId) },
  );
  await pm.subscribe({ bus, inbox: new InMemoryInbox() });
  closers.push(() => pm.stop());
  const topics = (orderId: string) =>
    seen.filter((m) => (m.payload as { orderId?: string }).orderId === orderId).map((m) => m.topic);
  return { bus, orders, payments, seen, topics, pm, clock, expired, paymentSubs };
}

describe('choreography with @EventHandler classes (in memory)', () => {
  it('runs the seed flow: order.created → payment.requested → payment.completed', async () => {
    const s = await stack();
    await s.bus.publish('order.created', { orderId: 'o1', total: 30 }, { key: 'o1' });
    await expect
      .poll(() => s.topics('o1'))
      .toEqual(['order.created', 'payment.requested', 'payment.completed']);
    await expect.poll(async () => (await s.pm.get('o1'))?.outcome, { timeout: 5000 }).toBe('paid');
    expect(s.payments.charged).toEqual(['o1']);
  });

  it('compensates on payment.failed: the order is cancelled and order.cancelled published', async () => {
    const s = await stack();
    s.payments.declined.add('o2');
    await s.bus.publish('order.created', { orderId: 'o2', total: 5 }, { key: 'o2' });
    await expect
      .poll(() => s.topics('o2'))
      .toEqual(['order.created', 'payment.requested', 'payment.failed', 'order.cancelled']);
    expect(s.orders.orders.get('o2')).toEqual({ status: 'cancelled' });
    const cancelled = s.seen.find((m) => m.topic === 'order.cancelled');
    const created = s.seen.find((m) => m.topic === 'order.created');
    expect(cancelled?.headers.correlationId).toBe(created?.id);
    await expect.poll(async () => (await s.pm.get('o2'))?.outcome, { timeout: 5000 }).toBe('cancelled');
  });

  it('detects a stuck flow by its deadline on the injected clock, and compensates it', async () => {
    const s = await stack();
    for (const sub of s.paymentSubs) await sub.close();
    await s.bus.publish('order.created', { orderId: 'o3', total: 8 }, { key: 'o3' });
    await expect
      .poll(async () => (await s.pm.get('o3'))?.deadlineAt, { timeout: 5000 })
      .toBe(s.clock.now() + 30_000);
    s.pm.startDeadlines({ intervalMs: 5_000 });
    await s.clock.advance(25_000);
    expect(s.expired).toEqual([]);
    await s.clock.advance(10_000);
    expect(s.expired).toEqual(['o3']);
    await expect.poll(() => s.orders.orders.get('o3'), { timeout: 5000 }).toEqual({ status: 'cancelled' });
    expect(s.topics('o3')).toEqual([
      'order.created',
      'payment.requested',
      'payment.failed',
      'order.cancelled',
    ]);
    const deadlineFailure = s.seen.find((m) => m.topic === 'payment.failed');
    expect(deadlineFailure?.headers.correlationId).toBe('o3');
    expect(await s.pm.get('o3')).toMatchObject({ status: 'done', outcome: 'timed-out', deadlineAt: null });
    s.pm.stop();
    expect(s.clock.pendingTimers()).toBe(0);
  });

  it('retries an event that arrives before its flow started', async () => {
    const s = await stack();
    const pm = s.pm;
    const message = { id: 'm1', topic: 'payment.completed', payload: { orderId: 'ghost' } } as Message;
    const error = await pm
      .handle('payment.completed', message, { afterCommit: () => {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcessNotStartedError);
    expect(isProcessNotStartedError(error)).toBe(true);
  });
});

describe('event handlers and catalogs', () => {
  it('rejects publishing a payload that breaks the catalog, naming the field', async () => {
    expect(() => parseEvent(shop, 'order.created', { orderId: 'x', total: 'lots' })).toThrow(/total/);
    const bus = new InMemoryBus();
    const got: Message[] = [];
    await bus.subscribe('>', (m) => void got.push(m), { group: 'audit' });
    await eventHandlers<typeof shop, InMemoryInboxTransaction>(shop)
      .on('order.created', (e, ctx) =>
        ctx.publish('payment.requested', { orderId: e.orderId, amount: 'all' as never }),
      )
      .subscribe({
        bus,
        inbox: new InMemoryInbox(),
        outbox: new InMemoryOutbox(bus),
        group: 'bad',
        retry: { maxAttempts: 1 },
      });
    await bus.publish('order.created', { orderId: 'o9', total: 1 });
    await expect
      .poll(async () => (await bus.deadLetters.list({ group: 'bad' })).length, { timeout: 5000 })
      .toBe(1);
    const [letter] = await bus.deadLetters.list({ group: 'bad' });
    expect(letter?.error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(got.map((m) => m.topic)).toEqual(['order.created']);
    await bus.close();
  });

  it('handlersFrom refuses an object without decorated methods; the untyped decorator works too', () => {
    expect(() => handlersFrom({}, shop)).toThrow(/no @EventHandler methods/);
    class Loose {
      @UntypedEventHandler('order.cancelled')
      onCancelled() {}
    }
    expect(handlersFrom(new Loose(), shop).topics()).toEqual(['order.cancelled']);
  });

  it('type-checks decorated methods against the catalog (compile-time; tsc runs over tests)', () => {
    class Mismatched {
      // @ts-expect-error the method expects a payload that is not order.created's
      @EventHandler('order.created')
      onCreated(_event: { reason: number }) {}

      // @ts-expect-error not a topic of the catalog
      @EventHandler('order.shipped')
      onShipped() {}
    }
    expect(handlersFrom(new Mismatched(), shop).topics().sort()).toEqual(['order.created', 'order.shipped']);
  });
});
