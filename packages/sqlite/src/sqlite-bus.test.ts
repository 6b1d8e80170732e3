import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@trellis/core';
import { describeBusConformance, sqlLedger } from '@trellis/messaging/conformance';
import { describe, expect, it } from 'vitest';
import { SqliteDatabase } from './database.js';
import { SqliteInbox } from './inbox.js';
import { SqliteBus } from './sqlite-bus.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'trellis-bus-'));

describeBusConformance('sqlite', async () => {
  const dir = tempDir();
  const file = join(dir, 'bus.db');
  const buses: SqliteBus[] = [];
  const others: Array<() => Promise<void>> = [];
  // Several buses on one file, like several services of one process (they share one
  // connection); separate processes are covered by the crash test with child processes.
  const first = await SqliteBus.open(file);
  buses.push(first);
  return {
    deadLetters: first.deadLetters,
    async createBus(options = {}) {
      const bus = await SqliteBus.open(file, options);
      buses.push(bus);
      return bus;
    },
    async crash(bus) {
      (bus as SqliteBus).crash();
    },
    async createLedger() {
      const db = SqliteDatabase.open(join(dir, `service-${others.length}.db`));
      others.push(() => db.close());
      return sqlLedger(db, await SqliteInbox.create(db));
    },
    async cleanup() {
      await Promise.all(buses.map((b) => b.close()));
      for (const close of others) await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteBus', () => {
  it('keeps undelivered messages and their groups across a restart', async () => {
    const dir = tempDir();
    const file = join(dir, 'bus.db');
    const a = await SqliteBus.open(file);
    const sub = await a.subscribe('x.*', () => {}, { group: 'g' });
    await sub.close();
    await a.publish('x.y', { n: 1 });
    await a.close();
    const b = await SqliteBus.open(file);
    const got: unknown[] = [];
    await b.subscribe('x.*', (m) => void got.push(m.payload), { group: 'g' });
    await expect.poll(() => got, { timeout: 5000 }).toEqual([{ n: 1 }]);
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('retries on the injected clock and clears every timer on close', async () => {
    const dir = tempDir();
    const clock = new ManualClock(10_000);
    const bus = await SqliteBus.open(join(dir, 'bus.db'), { clock });
    const at: number[] = [];
    await bus.subscribe(
      'x.y',
      () => {
        at.push(clock.now());
        throw new Error('no');
      },
      { group: 'g', retry: { maxAttempts: 3, backoff: { initialDelay: 500, jitter: 'none' } } },
    );
    await bus.publish('x.y', {});
    await expect.poll(() => at.length).toBe(1);
    await clock.advance(499);
    await new Promise((r) => setTimeout(r, 30));
    expect(at).toHaveLength(1);
    await clock.advance(1);
    await expect.poll(() => at.length).toBe(2);
    await clock.advance(1000);
    await expect.poll(() => at.length).toBe(3);
    await expect.poll(() => bus.deadLetters.count()).toBe(1);
    expect(at).toEqual([10_000, 10_500, 11_500]);
    await bus.close();
    expect(clock.pendingTimers()).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports lag to the observer', async () => {
    const dir = tempDir();
    const lags: Array<{ pending: number; inFlight: number }> = [];
    const bus = await SqliteBus.open(join(dir, 'bus.db'), {
      lagIntervalMs: 20,
      observer: { lag: (e) => lags.push({ pending: e.pending, inFlight: e.inFlight }) },
    });
    const sub = await bus.subscribe('x.y', () => new Promise(() => {}), { group: 'g', concurrency: 1 });
    await bus.publish('x.y', {});
    await bus.publish('x.y', {});
    await expect.poll(() => lags.at(-1), { timeout: 5000 }).toEqual({ pending: 2, inFlight: 1 });
    expect(await sub.lag()).toEqual({ pending: 2, inFlight: 1 });
    bus.crash();
    rmSync(dir, { recursive: true, force: true });
  });
});
