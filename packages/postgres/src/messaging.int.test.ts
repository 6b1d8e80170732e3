import {
  InMemoryBus,
  type Message,
  type OutgoingMessage,
  outboxAppendHook,
  type PublishedMessage,
} from '@trellis/messaging';
import { createTestDatabase, serverUrl, startPostgres } from '@trellis/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresDatabase } from './database.js';
import { PostgresDeadLetterStore } from './dead-letter-store.js';
import { PostgresEventStore } from './event-store.js';
import { PostgresInbox } from './inbox.js';
import { PostgresOutbox } from './outbox.js';

const url = serverUrl('postgres');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function database(dbUrl?: string): Promise<PostgresDatabase> {
  const db = PostgresDatabase.connect(dbUrl ?? (await createTestDatabase('messaging')));
  cleanups.push(() => db.close());
  return db;
}

async function collectingBus() {
  const bus = new InMemoryBus();
  cleanups.push(() => bus.close());
  const got: Message[] = [];
  await bus.subscribe('>', (m) => void got.push(m), { group: 'all', concurrency: 1 });
  return { bus, got };
}

describe.skipIf(!url)('PostgresOutbox', () => {
  it('wakes a relay in another process by NOTIFY at commit, and never publishes a rollback', async () => {
    const dbUrl = await createTestDatabase('outbox_notify');
    const writerDb = await database(dbUrl);
    const relayDb = await database(dbUrl);
    const writer = await PostgresOutbox.create(writerDb);
    const { bus, got } = await collectingBus();
    // The relay runs on its own pool with a one-minute poll: only NOTIFY can wake it in time.
    const relay = (await PostgresOutbox.create(relayDb)).startRelay(bus, { pollIntervalMs: 60_000 });
    cleanups.push(() => relay.stop());
    await new Promise((r) => setTimeout(r, 200)); // let LISTEN settle
    await writerDb.transaction((tx) =>
      writer.enqueue(tx, [{ topic: 'order.placed', key: 'o1', payload: { n: 1 } }]),
    );
    await expect(
      writerDb.transaction(async (tx) => {
        await writer.enqueue(tx, [{ topic: 'order.placed', key: 'o2', payload: { n: 2 } }]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await expect.poll(() => got.map((m) => m.key), { timeout: 5000 }).toEqual(['o1']);
    await expect.poll(() => relay.backlog(), { timeout: 5000 }).toBe(0);
  });

  it('keeps per-key order and loses nothing with three relay replicas and concurrent writers', async () => {
    const dbUrl = await createTestDatabase('outbox_replicas');
    const writerDb = await database(dbUrl);
    const outbox = await PostgresOutbox.create(writerDb);
    const { bus, got } = await collectingBus();
    for (let i = 0; i < 3; i++) {
      const relay = (await PostgresOutbox.create(await database(dbUrl))).startRelay(bus, {
        batchSize: 7,
        pollIntervalMs: 50,
      });
      cleanups.push(() => relay.stop());
    }
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    await Promise.all(
      keys.map(async (key) => {
        for (let n = 0; n < 25; n++) {
          await writerDb.transaction((tx) =>
            outbox.enqueue(tx, [{ topic: 'stock.moved', key, payload: { key, n } }]),
          );
        }
      }),
    );
    await expect.poll(() => got.length, { timeout: 20_000 }).toBe(200);
    for (const key of keys) {
      const ns = got.filter((m) => m.key === key).map((m) => (m.payload as { n: number }).n);
      expect(ns).toEqual(Array.from({ length: 25 }, (_, i) => i));
    }
    expect(new Set(got.map((m) => m.id)).size).toBe(200);
  });

  it('writes outbox rows inside event-store appends (the hook) and publishes them after commit', async () => {
    const db = await database();
    const outbox = await PostgresOutbox.create(db);
    const store = await PostgresEventStore.create(db);
    cleanups.push(() => store.close());
    store.onAppend(outboxAppendHook(outbox, { topic: (e) => `order.${e.eventType.toLowerCase()}` }));
    const { bus, got } = await collectingBus();
    const relay = outbox.startRelay(bus);
    cleanups.push(() => relay.stop());
    await store.append('o-7', [{ eventType: 'Created', payload: { total: 3 } }], {
      aggregateType: 'Order',
      metadata: { correlationId: 'corr-7' },
    });
    await expect(
      store.append('o-7', [{ eventType: 'Stale', payload: {} }], { expectedVersion: 0 }),
    ).rejects.toMatchObject({
      status: 409,
    });
    await expect.poll(() => got.length, { timeout: 5000 }).toBe(1);
    const [event] = await store.getEvents('o-7');
    expect(got[0]).toMatchObject({
      id: event?.id,
      topic: 'order.created',
      key: 'o-7',
      payload: { total: 3 },
    });
    expect(got[0]?.headers.correlationId).toBe('corr-7');
    // Published inside the relay's transaction; the row is deleted when it commits.
    await expect.poll(() => relay.backlog(), { timeout: 5000 }).toBe(0);
  });

  it('keeps rows when publishing fails and sends them once the bus is back', async () => {
    const db = await database();
    const outbox = await PostgresOutbox.create(db);
    const { bus, got } = await collectingBus();
    let down = true;
    const flaky = {
      async publishBatch(messages: readonly OutgoingMessage[]): Promise<PublishedMessage[]> {
        if (down) throw new Error('bus unavailable');
        return bus.publishBatch(messages);
      },
    };
    const errors: unknown[] = [];
    const relay = outbox.startRelay(flaky, {
      backoff: { initialDelay: 10, maxDelay: 50 },
      onError: (e) => errors.push(e),
    });
    cleanups.push(() => relay.stop());
    await db.transaction((tx) => outbox.enqueue(tx, [{ topic: 'a.b', payload: { n: 1 } }]));
    await expect.poll(() => errors.length, { timeout: 5000 }).toBeGreaterThan(1);
    expect(await relay.backlog()).toBe(1);
    down = false;
    await expect.poll(() => got.length, { timeout: 5000 }).toBe(1);
    await expect.poll(() => relay.backlog(), { timeout: 5000 }).toBe(0);
  });

  it('reconnects its LISTEN after a PostgreSQL restart', async () => {
    const pg = await startPostgres({ durable: true }); // commits must survive the SIGKILL
    cleanups.push(() => pg.destroy());
    const db = await database(await pg.createDatabase('outbox_restart'));
    const outbox = await PostgresOutbox.create(db);
    const { bus, got } = await collectingBus();
    const relay = outbox.startRelay(bus, {
      pollIntervalMs: 60_000,
      backoff: { initialDelay: 50, maxDelay: 200 },
    });
    cleanups.push(() => relay.stop());
    await db.transaction((tx) => outbox.enqueue(tx, [{ topic: 'a.b', payload: { n: 1 } }]));
    await expect.poll(() => got.length, { timeout: 5000 }).toBe(1);
    await pg.kill();
    await pg.restart();
    // The pool may hand out a dead connection once; the write is retried like any caller would.
    await expect
      .poll(
        async () => {
          try {
            await db.transaction((tx) =>
              outbox.enqueue(tx, [{ topic: 'a.b', id: 'after-restart', payload: { n: 2 } }]),
            );
            return true;
          } catch {
            return false;
          }
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    await expect.poll(() => got.length, { timeout: 10_000 }).toBe(2);
  });
});

describe.skipIf(!url)('PostgresInbox', () => {
  it('lets exactly one of two concurrent members apply a redelivered message', async () => {
    const db = await database();
    await db.execute('CREATE TABLE effects (n INT)');
    const inbox = await PostgresInbox.create(db);
    const message = { id: 'm-1', topic: 'credit.granted' };
    const slowApply = (n: number) =>
      inbox.run('ledger', message, async (tx) => {
        await tx.execute('INSERT INTO effects VALUES ($1)', [n]);
        await new Promise((r) => setTimeout(r, 100));
        return n;
      });
    const results = await Promise.all([slowApply(1), slowApply(2)]);
    expect(results.filter((r) => r.duplicate)).toHaveLength(1);
    expect(await db.query('SELECT n FROM effects')).toHaveLength(1);
    expect(await inbox.has('ledger', 'm-1')).toBe(true);
    await expect(
      inbox.run('ledger', { id: 'm-2', topic: 't' }, async (tx) => {
        await tx.execute('INSERT INTO effects VALUES (3)');
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    expect(await inbox.has('ledger', 'm-2')).toBe(false);
    expect(await db.query('SELECT n FROM effects')).toHaveLength(1);
    expect(await inbox.prune(Date.now() + 1)).toBe(1);
  });
});

describe.skipIf(!url)('PostgresDeadLetterStore', () => {
  const entry = (n: number, over: Record<string, unknown> = {}) => ({
    messageId: `m-${n}`,
    group: n % 2 ? 'billing' : 'shipping',
    pattern: 'order.*',
    topic: n < 3 ? 'order.placed' : 'order.cancelled',
    key: `o${n}`,
    headers: { correlationId: `c${n}` },
    payload: { n },
    reason: 'failed' as const,
    error: { name: 'Error', message: `boom ${n}`, code: n === 4 ? 'UPSTREAM_DOWN' : undefined },
    attempts: 5,
    publishedAt: 1000 + n,
    firstAttemptAt: 2000 + n,
    lastAttemptAt: 3000 + n,
    transport: 'jetstream',
    ...over,
  });

  it('lists by filter, inspects, replays through the outbox to the failed group only, and purges', async () => {
    const db = await database();
    const store = await PostgresDeadLetterStore.create(db);
    const outbox = await PostgresOutbox.create(db);
    for (let n = 1; n <= 5; n++) await store.record(entry(n));
    const again = await store.record(entry(1, { error: { name: 'Error', message: 'second failure' } }));
    expect(again.error.message).toBe('boom 1');
    expect(await store.count()).toBe(5);
    expect((await store.list({ group: 'billing' })).map((d) => d.messageId)).toEqual(['m-1', 'm-3', 'm-5']);
    expect((await store.list({ topic: 'order.*', key: 'o2' })).map((d) => d.messageId)).toEqual(['m-2']);
    expect((await store.list({ topic: 'order.cancelled' })).map((d) => d.messageId)).toEqual([
      'm-3',
      'm-4',
      'm-5',
    ]);
    expect((await store.list({ errorCode: 'UPSTREAM_DOWN' })).map((d) => d.messageId)).toEqual(['m-4']);
    expect((await store.list({}, { limit: 2, offset: 1 })).map((d) => d.messageId)).toEqual(['m-2', 'm-3']);
    expect(await store.count({ until: 0 })).toBe(0);
    const [first] = await store.list({ ids: [again.id] });
    expect(await store.get(again.id)).toEqual(first);
    expect(first).toMatchObject({
      payload: { n: 1 },
      headers: { correlationId: 'c1' },
      attempts: 5,
      firstAttemptAt: 2001,
    });

    const bus = new InMemoryBus();
    cleanups.push(() => bus.close());
    const seen: Record<string, string[]> = { billing: [], shipping: [] };
    await bus.subscribe('order.*', (m) => void seen.billing?.push(m.id), { group: 'billing' });
    await bus.subscribe('order.*', (m) => void seen.shipping?.push(m.id), { group: 'shipping' });
    const relay = outbox.startRelay(bus);
    cleanups.push(() => relay.stop());
    expect(await store.replay({ group: 'billing', topic: 'order.cancelled' })).toBe(2);
    await expect.poll(() => seen.billing?.sort(), { timeout: 5000 }).toEqual(['m-3', 'm-5']);
    expect(seen.shipping).toEqual([]);
    expect(await store.purge({ group: 'shipping' })).toBe(2);
    expect((await store.list()).map((d) => d.messageId)).toEqual(['m-1']);
  });
});
