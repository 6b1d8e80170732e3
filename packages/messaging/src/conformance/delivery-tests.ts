import { expect, it } from 'vitest';
import type { Message } from '../message.js';
import type { BusConformanceContext, ConformanceOptions } from './harness.js';
import { deferred, pause, waitFor } from './wait.js';

type Use = () => BusConformanceContext;

/** Delivery semantics: envelope, groups, order, wildcards, durability, replay of history. */
export function deliveryTests(use: Use, options: Required<ConformanceOptions>): void {
  const { waitMs } = options;

  it('delivers the envelope: id, topic, key, payload, headers, timestamps, attempt', async () => {
    const ctx = use();
    const bus = await ctx.createBus();
    const got: Message[] = [];
    await bus.subscribe('order.created', (m) => void got.push(m), { group: 'g1' });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const sent = await bus.publish(
      'order.created',
      { orderId: 'o1', total: 42, at: new Date(0) },
      { key: 'o1', headers: { traceparent, correlationId: 'c-1', custom: 'x' } },
    );
    await waitFor('delivery', () => got.length === 1, waitMs);
    const m = got[0] as Message;
    expect(m.id).toBe(sent.id);
    expect(m.topic).toBe('order.created');
    expect(m.key).toBe('o1');
    expect(m.payload).toEqual({ orderId: 'o1', total: 42, at: '1970-01-01T00:00:00.000Z' });
    expect(m.headers).toMatchObject({ traceparent, correlationId: 'c-1', custom: 'x' });
    expect(m.attempt).toBe(1);
    expect(m.publishedAt).toBe(sent.publishedAt);
    expect(m.deliveredAt).toBeGreaterThanOrEqual(m.publishedAt);
  });

  it('gives every group its own copy and each group every message exactly once', async () => {
    const ctx = use();
    const [a1, a2, b] = [await ctx.createBus(), await ctx.createBus(), await ctx.createBus()];
    const seen = { a: [] as string[], b: [] as string[] };
    await a1.subscribe('item.*', (m) => void seen.a.push(m.id), { group: 'alpha' });
    await a2.subscribe('item.*', (m) => void seen.a.push(m.id), { group: 'alpha' });
    await b.subscribe('item.*', (m) => void seen.b.push(m.id), { group: 'beta' });
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await a1.publish('item.added', { i }, { key: `k${i % 7}` })).id);
    await waitFor('both groups', () => seen.a.length >= 40 && seen.b.length >= 40, waitMs);
    await pause(200);
    expect([...seen.a].sort()).toEqual([...ids].sort());
    expect([...seen.b].sort()).toEqual([...ids].sort());
  });

  it('handles one key in publish order while different keys run concurrently', async () => {
    const ctx = use();
    const bus = await ctx.createBus();
    const order = new Map<string, number[]>();
    const bStarted = deferred();
    let aWaited = false;
    await bus.subscribe(
      'acct.*',
      async (m) => {
        const { key, n } = m.payload as { key: string; n: number };
        if (key === 'a' && n === 0) {
          // The first message of key a only finishes once key b has started: proof that
          // different keys overlap (a consumer handling everything serially would hang here).
          await Promise.race([bStarted.promise, pause(waitMs)]);
          aWaited = true;
        }
        if (key === 'b') bStarted.resolve();
        await pause(Math.random() * 3);
        order.set(key, [...(order.get(key) ?? []), n]);
      },
      { group: 'ledger', concurrency: 8 },
    );
    const batch = [];
    for (let n = 0; n < 15; n++)
      for (const key of ['a', 'b', 'c']) batch.push({ topic: 'acct.posted', key, payload: { key, n } });
    await bus.publishBatch(batch);
    await waitFor('all', () => [...order.values()].reduce((s, l) => s + l.length, 0) === 45, waitMs);
    const expected = Array.from({ length: 15 }, (_, i) => i);
    for (const key of ['a', 'b', 'c']) expect(order.get(key)).toEqual(expected);
    expect(aWaited).toBe(true);
  });

  it('keeps per-key order across competing members of a group', async () => {
    const ctx = use();
    const [b1, b2] = [await ctx.createBus(), await ctx.createBus()];
    const order: number[] = [];
    const handler = async (m: Message) => {
      await pause(Math.random() * 2);
      order.push((m.payload as { n: number }).n);
    };
    await b1.subscribe('stock.*', handler, { group: 'inv', concurrency: 4 });
    await b2.subscribe('stock.*', handler, { group: 'inv', concurrency: 4 });
    await b1.publishBatch(
      Array.from({ length: 30 }, (_, n) => ({ topic: 'stock.moved', key: 'sku-1', payload: { n } })),
    );
    await waitFor('30 messages', () => order.length === 30, waitMs);
    expect(order).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('matches wildcards: * is one token, > is the rest', async () => {
    const ctx = use();
    const bus = await ctx.createBus();
    const got: Record<string, string[]> = { star: [], tail: [], first: [] };
    await bus.subscribe('order.*', (m) => void got.star?.push(m.topic), { group: 'star' });
    await bus.subscribe('order.>', (m) => void got.tail?.push(m.topic), { group: 'tail' });
    await bus.subscribe('*.created', (m) => void got.first?.push(m.topic), { group: 'first' });
    for (const t of ['order.created', 'order.item.added', 'payment.created', 'orders.created']) {
      await bus.publish(t, {});
    }
    await waitFor('deliveries', () => got.tail?.length === 2 && got.first?.length === 3, waitMs);
    await pause(200);
    expect(got.star).toEqual(['order.created']);
    expect(got.tail?.sort()).toEqual(['order.created', 'order.item.added']);
    expect(got.first?.sort()).toEqual(['order.created', 'orders.created', 'payment.created']);
  });

  it('keeps messages for a group while none of its members runs (durable groups)', async () => {
    const ctx = use();
    const publisher = await ctx.createBus();
    const consumer = await ctx.createBus();
    const sub = await consumer.subscribe('ship.*', () => {}, { group: 'shipping' });
    await sub.close();
    await consumer.close();
    for (let i = 0; i < 5; i++) await publisher.publish('ship.requested', { i });
    const later = await ctx.createBus();
    const got: number[] = [];
    await later.subscribe('ship.*', (m) => void got.push((m.payload as { i: number }).i), {
      group: 'shipping',
    });
    await waitFor('backlog', () => got.length === 5, waitMs);
    expect(got.sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it("replays history to a new group that asks for it ('all'), not to one that starts 'new'", async () => {
    const ctx = use();
    const bus = await ctx.createBus();
    for (let i = 0; i < 3; i++) await bus.publish('audit.logged', { i });
    const all: number[] = [];
    const fresh: number[] = [];
    await bus.subscribe('audit.*', (m) => void all.push((m.payload as { i: number }).i), {
      group: 'rebuild',
      from: 'all',
    });
    await bus.subscribe('audit.*', (m) => void fresh.push((m.payload as { i: number }).i), { group: 'live' });
    await bus.publish('audit.logged', { i: 3 });
    await waitFor('history and new', () => all.length === 4 && fresh.length === 1, waitMs);
    expect(all).toEqual([0, 1, 2, 3]);
    expect(fresh).toEqual([3]);
  });

  it('propagates correlation id, causation and trace context to messages published by a handler', async () => {
    const ctx = use();
    const bus = await ctx.createBus();
    const got: Message[] = [];
    await bus.subscribe('order.created', async (m) => bus.publish('payment.requested', { orderId: m.key }), {
      group: 'orders',
    });
    await bus.subscribe('payment.requested', (m) => void got.push(m), { group: 'payments' });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const first = await bus.publish('order.created', {}, { key: 'o9', headers: { traceparent } });
    await waitFor('chained message', () => got.length === 1, waitMs);
    expect(got[0]?.headers).toMatchObject({ correlationId: first.id, causationId: first.id, traceparent });
  });

  it('reports published and handled messages to the observer', async () => {
    const ctx = use();
    const events: string[] = [];
    const latencies: number[] = [];
    const bus = await ctx.createBus({
      observer: {
        published: (e) => events.push(`published ${e.topic}`),
        handled: (e) => {
          events.push(`handled ${e.group} ${e.topic} ${e.attempt}`);
          latencies.push(e.latencyMs);
        },
      },
    });
    await bus.subscribe('metric.*', () => {}, { group: 'm' });
    await bus.publish('metric.tick', {});
    await waitFor('handled', () => events.length === 2, waitMs);
    expect(events).toEqual(['published metric.tick', 'handled m metric.tick 1']);
    expect(latencies[0]).toBeGreaterThanOrEqual(0);
  });

  it('close() waits for running handlers and stops deliveries', async () => {
    const ctx = use();
    const bus = await ctx.createBus();
    const release = deferred();
    let finished = 0;
    let started = 0;
    const sub = await bus.subscribe(
      'job.*',
      async () => {
        started++;
        await release.promise;
        finished++;
      },
      { group: 'workers', concurrency: 1 },
    );
    await bus.publish('job.run', {});
    await waitFor('start', () => started === 1, waitMs);
    const closing = sub.close();
    setTimeout(() => release.resolve(), 50);
    await closing;
    expect(finished).toBe(1);
    await bus.publish('job.run', {});
    await pause(300);
    expect(started).toBe(1);
  });
}
