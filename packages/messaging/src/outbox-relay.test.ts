import { ManualClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { InMemoryBus } from './in-memory-bus.js';
import type { Message, OutgoingMessage } from './message.js';
import type { OutboxSource } from './outbox.js';
import { OutboxRelay } from './outbox-relay.js';
import type { PreparedMessage } from './prepare.js';

/** An outbox kept in an array: rows are removed only when publishing succeeded. */
class ArraySource implements OutboxSource {
  rows: PreparedMessage[] = [];
  private listener: (() => void) | undefined;
  closed = false;

  add(n: number): void {
    this.rows.push({
      id: `m-${n}`,
      topic: 'a.b',
      key: undefined,
      headers: {},
      payload: JSON.stringify({ n }),
      publishedAt: n,
      group: undefined,
    });
  }
  commit(): void {
    this.listener?.();
  }
  async relay(limit: number, publish: (m: PreparedMessage[]) => Promise<void>): Promise<number> {
    const batch = this.rows.slice(0, limit);
    if (batch.length === 0) return 0;
    await publish(batch);
    this.rows.splice(0, batch.length);
    return batch.length;
  }
  async backlog(): Promise<number> {
    return this.rows.length;
  }
  onWake(listener: () => void): () => void {
    this.listener = listener;
    return () => {
      this.listener = undefined;
    };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

async function setup(fail?: () => boolean) {
  const clock = new ManualClock();
  const bus = new InMemoryBus({ clock });
  const got: number[] = [];
  await bus.subscribe('a.b', (m: Message) => void got.push((m.payload as { n: number }).n), { group: 'g' });
  const target = {
    publishBatch: async (ms: readonly OutgoingMessage[]) => {
      if (fail?.()) throw new Error('bus down');
      return bus.publishBatch(ms);
    },
  };
  const source = new ArraySource();
  const errors: unknown[] = [];
  const relay = new OutboxRelay({
    source,
    bus: target,
    clock,
    batchSize: 2,
    pollIntervalMs: 1000,
    backoff: { initialDelay: 100, jitter: 'none' },
    onError: (e) => errors.push(e),
  });
  return { clock, bus, got, source, relay, errors };
}

describe('OutboxRelay', () => {
  it('relays at once when woken, polls otherwise, drains in batches, and stops cleanly', async () => {
    const { clock, got, source, relay, bus } = await setup();
    relay.start();
    await clock.advance(0); // the first look finds nothing
    source.add(1);
    await clock.advance(999);
    expect(got).toEqual([]); // no wake-up: waits for the poll
    await clock.advance(1);
    expect(got).toEqual([1]);
    for (const n of [2, 3, 4, 5, 6]) source.add(n);
    source.commit(); // an after-commit wake-up
    await clock.advance(0);
    expect(got).toEqual([1, 2, 3, 4, 5, 6]); // batches of 2, back to back
    await relay.stop();
    expect(source.closed).toBe(true);
    await bus.close();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('backs off after a failed batch and resends it, losing nothing', async () => {
    let down = 2;
    const { clock, got, source, relay, errors, bus } = await setup(() => down-- > 0);
    relay.start();
    source.add(1);
    source.commit();
    await clock.advance(0);
    expect(errors).toHaveLength(1);
    await clock.advance(99);
    expect(errors).toHaveLength(1);
    await clock.advance(1);
    expect(errors).toHaveLength(2); // second failure after 100 ms
    await clock.advance(200);
    expect(got).toEqual([1]);
    expect(await relay.backlog()).toBe(0);
    await relay.stop();
    await bus.close();
  });

  it('flush() relays everything now', async () => {
    const { got, source, relay, bus } = await setup();
    for (const n of [1, 2, 3]) source.add(n);
    await relay.flush();
    expect(got).toEqual([1, 2, 3]);
    await bus.close();
  });
});
