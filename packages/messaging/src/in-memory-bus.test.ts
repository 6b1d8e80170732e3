import { ManualClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { describeBusConformance } from './conformance/index.js';
import { InMemoryBroker } from './in-memory-broker.js';
import { InMemoryBus } from './in-memory-bus.js';
import { InMemoryInbox, withInbox } from './inbox.js';

describeBusConformance('in-memory', async () => {
  const broker = new InMemoryBroker();
  const buses: InMemoryBus[] = [];
  return {
    deadLetters: broker.deadLetters,
    async createBus(options = {}) {
      const bus = new InMemoryBus({ broker, ...options });
      buses.push(bus);
      return bus;
    },
    async crash(bus) {
      (bus as InMemoryBus).crash();
    },
    async createLedger() {
      const inbox = new InMemoryInbox();
      const applied: Array<{ group: string; messageId: string }> = [];
      return {
        handler: (hooks = {}) => {
          const inner = withInbox(inbox, async (message, tx, context) => {
            tx.afterCommit(() => applied.push({ group: context.group, messageId: message.id }));
            await hooks.beforeCommit?.(message);
          });
          return async (message, context) => {
            await inner(message, context);
            await hooks.afterCommit?.(message);
          };
        },
        applied: async () => [...applied],
        close: async () => {},
      };
    },
    async cleanup() {
      await Promise.all(buses.map((b) => b.close()));
    },
  };
});

describe('InMemoryBus with a manual clock', () => {
  it('waits exactly the backoff between attempts and clears its timers', async () => {
    const clock = new ManualClock(1_000);
    const bus = new InMemoryBus({ clock });
    const at: number[] = [];
    await bus.subscribe(
      'x.y',
      () => {
        at.push(clock.now());
        throw new Error('nope');
      },
      {
        group: 'g',
        retry: { maxAttempts: 4, backoff: { initialDelay: 100, multiplier: 3, jitter: 'none' } },
      },
    );
    await bus.publish('x.y', {});
    await clock.advance(0);
    expect(at).toEqual([1000]);
    await clock.advance(99);
    expect(at).toEqual([1000]);
    await clock.advance(1 + 300 + 900);
    expect(at).toEqual([1000, 1100, 1400, 2300]);
    expect(await bus.deadLetters.count()).toBe(1);
    await bus.close();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('redelivers after exactly the visibility timeout when a member crashes', async () => {
    const clock = new ManualClock();
    const broker = new InMemoryBroker({ clock });
    const a = new InMemoryBus({ broker });
    const b = new InMemoryBus({ broker });
    const seen: string[] = [];
    await a.subscribe('t.t', () => new Promise(() => seen.push('a')), {
      group: 'g',
      visibilityTimeoutMs: 1000,
    });
    await a.publish('t.t', {});
    await clock.advance(0);
    a.crash();
    await b.subscribe('t.t', (m) => void seen.push(`b${m.attempt}`), {
      group: 'g',
      visibilityTimeoutMs: 1000,
    });
    await clock.advance(999);
    expect(seen).toEqual(['a']);
    await clock.advance(1);
    expect(seen).toEqual(['a', 'b2']);
    await b.close();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('extends the lease of a slow handler so it is not redelivered while running', async () => {
    const clock = new ManualClock();
    const broker = new InMemoryBroker({ clock });
    const a = new InMemoryBus({ broker });
    const b = new InMemoryBus({ broker });
    let runs = 0;
    let release!: () => void;
    const handler = () => {
      runs++;
      return new Promise<void>((r) => {
        release = r;
      });
    };
    await a.subscribe('t.t', handler, { group: 'g', visibilityTimeoutMs: 1000 });
    await b.subscribe('t.t', handler, { group: 'g', visibilityTimeoutMs: 1000 });
    await a.publish('t.t', {});
    await clock.advance(5000);
    expect(runs).toBe(1);
    release();
    await clock.advance(0);
    await a.close();
    await b.close();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('dead-letters a message whose consumers keep crashing on it (max-deliveries), without handling it again', async () => {
    const clock = new ManualClock();
    const broker = new InMemoryBroker({ clock });
    const publisher = new InMemoryBus({ broker });
    await (await publisher.subscribe('t.t', () => {}, { group: 'g' })).close();
    const sent = await publisher.publish('t.t', { poison: true });
    const options = { group: 'g', visibilityTimeoutMs: 1000, retry: { maxAttempts: 2 } };
    let handled = 0;
    for (let i = 0; i < 2; i++) {
      const doomed = new InMemoryBus({ broker });
      await doomed.subscribe('t.t', () => new Promise(() => handled++), options);
      await clock.advance(0);
      doomed.crash();
      await clock.advance(1000);
    }
    expect(handled).toBe(2);
    const survivor = new InMemoryBus({ broker });
    await survivor.subscribe('t.t', () => void handled++, options);
    await clock.advance(0);
    expect(handled).toBe(2);
    const [dl] = await broker.deadLetters.list();
    expect(dl).toMatchObject({ messageId: sent.id, reason: 'max-deliveries', attempts: 3 });
    expect(dl?.error.code).toBe('MAX_DELIVERIES_EXCEEDED');
    await survivor.close();
  });

  it('deduplicates a republished id and reports lag', async () => {
    const bus = new InMemoryBus();
    const sub = await bus.subscribe('t.t', () => new Promise(() => {}), { group: 'g', concurrency: 1 });
    await bus.publish('t.t', {}, { id: 'same' });
    await bus.publish('t.t', {}, { id: 'same' });
    await bus.publish('t.t', {});
    expect(await sub.lag()).toEqual({ pending: 2, inFlight: 1 });
    bus.crash();
  });

  it('refuses to publish after close', async () => {
    const bus = new InMemoryBus();
    await bus.close();
    await expect(bus.publish('a.b', {})).rejects.toMatchObject({ code: 'BUS_CLOSED' });
    expect(await bus.health()).toMatchObject({ ok: false });
  });
});
