import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Bus,
  InMemoryBus,
  type Message,
  type OutgoingMessage,
  outboxAppendHook,
  type PublishedMessage,
} from '@trellis/messaging';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SqliteDatabase } from './database.js';
import { SqliteDeadLetterStore } from './dead-letter-store.js';
import { SqliteEventStore } from './event-store.js';
import { SqliteInbox } from './inbox.js';
import { SqliteOutbox } from './outbox.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

async function setup() {
  const db = SqliteDatabase.open(join(mkdtempSync(join(tmpdir(), 'trellis-outbox-')), 'svc.db'));
  opened.push(db);
  const outbox = await SqliteOutbox.create(db, {
    schemas: { 'order.placed': z.object({ orderId: z.string() }) },
  });
  const bus = new InMemoryBus();
  opened.push(bus);
  const got: Message[] = [];
  await bus.subscribe('>', (m) => void got.push(m), { group: 'all' });
  return { db, outbox, bus, got };
}

describe('SqliteOutbox', () => {
  it('publishes rows of committed transactions only, at once after commit', async () => {
    const { db, outbox, bus, got } = await setup();
    const relay = outbox.startRelay(bus, { pollIntervalMs: 60_000 });
    opened.push({ close: () => relay.stop() });
    await db.transaction(async (tx) => {
      await outbox.enqueue(tx, [{ topic: 'order.placed', key: 'o1', payload: { orderId: 'o1' } }]);
    });
    await expect(
      db.transaction(async (tx) => {
        await outbox.enqueue(tx, [{ topic: 'order.placed', key: 'o2', payload: { orderId: 'o2' } }]);
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    // The poll interval is a minute: only the after-commit wake-up can deliver this in time.
    await expect.poll(() => got.map((m) => m.key), { timeout: 3000 }).toEqual(['o1']);
    expect(await relay.backlog()).toBe(0);
  });

  it('rejects a bad payload at enqueue time, writing nothing', async () => {
    const { db, outbox } = await setup();
    await expect(
      db.transaction((tx) => outbox.enqueue(tx, [{ topic: 'order.placed', payload: { orderId: 7 } }])),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [expect.objectContaining({ path: 'orderId' })],
    });
    expect(await db.query('SELECT * FROM trellis_outbox')).toEqual([]);
  });

  it('writes outbox rows in the event store append transaction (hook) and keeps per-aggregate order', async () => {
    const { db, outbox, bus, got } = await setup();
    const store = await SqliteEventStore.create(db);
    store.onAppend(outboxAppendHook(outbox));
    const relay = outbox.startRelay(bus);
    opened.push({ close: () => relay.stop() });
    await store.append('o-1', [{ eventType: 'OrderCreated', payload: { total: 5 } }], {
      aggregateType: 'Order',
      metadata: {
        correlationId: 'corr-1',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
    });
    await store.append('o-1', [
      { eventType: 'ItemAdded', payload: { sku: 'a' } },
      { eventType: 'order.confirmed', payload: {} },
    ]);
    await expect(
      store.append('o-1', [{ eventType: 'Stale', payload: {} }], { expectedVersion: 1 }),
    ).rejects.toMatchObject({ status: 409 });
    await expect.poll(() => got.length, { timeout: 3000 }).toBe(3);
    const events = await store.getEvents('o-1');
    expect(got.map((m) => [m.id, m.topic, m.key])).toEqual([
      [events[0]?.id, 'Order.OrderCreated', 'o-1'],
      [events[1]?.id, 'unknown.ItemAdded', 'o-1'],
      [events[2]?.id, 'order.confirmed', 'o-1'],
    ]);
    expect(got[0]?.headers).toMatchObject({
      correlationId: 'corr-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      version: '1',
      aggregateId: 'o-1',
    });
    expect(got[0]?.payload).toEqual({ total: 5 });
  });

  it('never drops a row when publishing fails, and resends (deduplicated) after a failure mid-batch', async () => {
    const { db, outbox, bus, got } = await setup();
    let failures = 2;
    // A bus that stores the batch and then fails to confirm it: the worst case for a relay.
    const flaky: Pick<Bus, 'publishBatch'> = {
      async publishBatch(messages: readonly OutgoingMessage[]): Promise<PublishedMessage[]> {
        const out = await bus.publishBatch(messages);
        if (failures-- > 0) throw new Error('connection reset');
        return out;
      },
    };
    const errors: unknown[] = [];
    const relay = outbox.startRelay(flaky, {
      backoff: { initialDelay: 5, maxDelay: 20 },
      onError: (e) => errors.push(e),
    });
    opened.push({ close: () => relay.stop() });
    await db.transaction((tx) =>
      outbox.enqueue(
        tx,
        Array.from({ length: 5 }, (_, n) => ({ topic: 'stock.moved', key: `k${n % 2}`, payload: { n } })),
      ),
    );
    await expect.poll(() => relay.backlog(), { timeout: 3000 }).toBe(0);
    expect(errors).toHaveLength(2);
    expect(got.map((m) => (m.payload as { n: number }).n)).toEqual([0, 1, 2, 3, 4]);
  });

  it('lets one relay per database file work at a time, and hands over when it stops', async () => {
    const { db, outbox, bus, got } = await setup();
    const first = outbox.startRelay(bus, { pollIntervalMs: 20 });
    await db.transaction((tx) => outbox.enqueue(tx, [{ topic: 'a.b', payload: { n: 1 } }]));
    await expect.poll(() => got.length, { timeout: 3000 }).toBe(1);
    const second = outbox.source();
    expect(await second.relay(10, async () => {})).toBe(0); // lease held by the first relay
    await first.stop();
    await db.transaction((tx) => outbox.enqueue(tx, [{ topic: 'a.b', payload: { n: 2 } }]));
    const sent: unknown[] = [];
    expect(await second.relay(10, async (ms) => void sent.push(...ms.map((m) => m.payload)))).toBe(1);
    expect(sent).toEqual(['{"n":2}']);
  });
});

describe('OutboxRelay with a bus that knows more schemas than the outbox', () => {
  it('dead-letters a row the bus rejects and keeps relaying the rows behind it', async () => {
    const db = SqliteDatabase.open(join(mkdtempSync(join(tmpdir(), 'trellis-outbox-')), 'svc.db'));
    opened.push(db);
    const outbox = await SqliteOutbox.create(db);
    const deadLetters = await SqliteDeadLetterStore.create(db);
    const bus = new InMemoryBus({ schemas: { 'user.registered': z.object({ email: z.email() }) } });
    opened.push(bus);
    const got: unknown[] = [];
    await bus.subscribe('user.*', (m) => void got.push(m.payload), { group: 'mail' });
    const relay = outbox.startRelay(bus, { deadLetters });
    opened.push({ close: () => relay.stop() });
    await db.transaction((tx) =>
      outbox.enqueue(tx, [
        { topic: 'user.registered', payload: { email: 'a@b.co' } },
        { topic: 'user.registered', payload: { email: 'not-an-email' } },
        { topic: 'user.registered', payload: { email: 'c@d.co' } },
      ]),
    );
    await expect.poll(() => got, { timeout: 3000 }).toEqual([{ email: 'a@b.co' }, { email: 'c@d.co' }]);
    const [dl] = await deadLetters.list();
    expect(dl).toMatchObject({
      group: 'outbox-relay',
      reason: 'invalid-payload',
      payload: { email: 'not-an-email' },
    });
    expect(dl?.error.code).toBe('VALIDATION_FAILED');
    expect(await relay.backlog()).toBe(0);
  });
});

describe('SqliteDeadLetterStore (outbox replay) and SqliteInbox', () => {
  it('replays a dead letter of another transport through the outbox, addressed to its group', async () => {
    const { db, outbox, bus } = await setup();
    const store = await SqliteDeadLetterStore.create(db);
    const seen: Record<string, string[]> = { billing: [], audit: [] };
    await bus.subscribe('order.*', (m) => void seen.billing?.push(m.headers.trellisReplayOf ?? ''), {
      group: 'billing',
    });
    await bus.subscribe('order.*', (m) => void seen.audit?.push(m.id), { group: 'audit' });
    const dl = await store.record({
      messageId: 'm-1',
      group: 'billing',
      pattern: 'order.*',
      topic: 'order.placed',
      key: 'o1',
      headers: { correlationId: 'c' },
      payload: { orderId: 'o1' },
      reason: 'failed',
      error: { name: 'Error', message: 'boom' },
      attempts: 5,
      publishedAt: 1,
      firstAttemptAt: 2,
      lastAttemptAt: 3,
      transport: 'jetstream',
    });
    expect(await store.record({ ...dl, error: { name: 'Error', message: 'later' } })).toEqual(dl);
    const relay = outbox.startRelay(bus, { pollIntervalMs: 20 });
    opened.push({ close: () => relay.stop() });
    expect(await store.replay({ group: 'billing' })).toBe(1);
    await expect.poll(() => seen.billing, { timeout: 3000 }).toEqual([dl.id]);
    expect(seen.audit).toEqual([]);
    expect(await store.count()).toBe(0);
  });

  it('groups concurrent handlers in one commit, rolling back only the one that fails', async () => {
    const { db } = await setup();
    await db.execute('CREATE TABLE effects (id TEXT)');
    const inbox = await SqliteInbox.create(db);
    const committed: string[] = [];
    const apply = (id: string, fail = false) =>
      inbox.run('g', { id, topic: 't' }, async (tx) => {
        await tx.execute('INSERT INTO effects VALUES ($1)', [id]);
        tx.afterCommit(() => committed.push(id));
        if (fail) throw new Error(`${id} failed`);
        return id;
      });
    const results = await Promise.allSettled([apply('a'), apply('b', true), apply('c'), apply('a')]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      { duplicate: false, value: 'a' },
      'b failed',
      { duplicate: false, value: 'c' },
      { duplicate: true },
    ]);
    expect(await db.query('SELECT id FROM effects ORDER BY id')).toEqual([{ id: 'a' }, { id: 'c' }]);
    expect(committed).toEqual(['a', 'c']);
    expect(await inbox.has('g', 'b')).toBe(false);
    expect(await apply('b')).toEqual({ duplicate: false, value: 'b' });
  });

  it('records marks with the handler writes and prunes old ones', async () => {
    const { db } = await setup();
    await db.execute('CREATE TABLE effects (n INTEGER)');
    let now = 1000;
    const inbox = await SqliteInbox.create(db, {
      clock: { now: () => now, setTimeout: () => ({}), clearTimeout() {} },
    });
    const msg = { id: 'm', topic: 't' };
    const first = await inbox.run('g', msg, (tx) => tx.execute('INSERT INTO effects VALUES (1)'));
    const again = await inbox.run('g', msg, (tx) => tx.execute('INSERT INTO effects VALUES (2)'));
    expect(first).toEqual({ duplicate: false, value: 1 });
    expect(again).toEqual({ duplicate: true });
    expect(await inbox.has('g', 'm')).toBe(true);
    expect(await inbox.has('other', 'm')).toBe(false);
    await expect(
      inbox.run('g', { id: 'x', topic: 't' }, async () => Promise.reject(new Error('no'))),
    ).rejects.toThrow('no');
    expect(await inbox.has('g', 'x')).toBe(false);
    now = 5000;
    expect(await inbox.prune(2000)).toBe(1);
    expect(await db.query('SELECT n FROM effects')).toEqual([{ n: 1 }]);
  });
});
