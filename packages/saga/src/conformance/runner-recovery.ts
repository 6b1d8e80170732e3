/**
 * Durable runner scenarios, part 2: crashes and ownership — recovery with the same
 * idempotency key, the unknown-outcome policy, poison steps, lease takeover with fencing, two
 * workers sharing a backlog, graceful close, lease renewal, and starting inside a transaction.
 */
import { isAbortedError, ManualClock } from '@trellis/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineSaga } from '../builder.js';
import type { SagaDefinition } from '../definition.js';
import { SagaCounters } from '../observer.js';
import { SagaRunner } from '../runner.js';
import type { SagaRunnerOptions } from '../runner-options.js';
import type { SagaStore } from '../store.js';
import { newInstance, type SagaStoreFactory, type SagaStoreFixture, uniqueName } from './fixture.js';
import { Ledger } from './ledger.js';

const gates = new Set<() => void>();

/** A latch a test opens by hand (every latch is opened before runners close, so none hangs). */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  gates.add(open);
  return { wait, open };
}

/** Polls `check` on the real event loop until it is true (bounded). */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Registers runner scenarios about crashes, leases and concurrency for a backend. */
export function describeSagaRunnerRecovery(
  backend: string,
  factory: SagaStoreFactory,
  options: { transactional?: boolean } = {},
): void {
  describe(`SagaRunner on ${backend}: recovery and ownership`, () => {
    let fx: SagaStoreFixture;
    let store: SagaStore;
    const runners: SagaRunner[] = [];
    const runner = (opts: Partial<SagaRunnerOptions> = {}) => {
      const r = new SagaRunner({ store, pollIntervalMs: 5, ...opts });
      runners.push(r);
      return r;
    };
    beforeAll(async () => {
      fx = await factory();
      store = fx.store;
    });
    afterAll(async () => {
      for (const open of gates) open();
      for (const r of runners) await r.close();
      await fx?.close();
    });

    /** reserve → charge (blocks the first time until `first` opens) → ship, all recorded. */
    function blockingSaga(
      ledger: Ledger,
      first: { wait: Promise<void> },
      policy: { onUnknownOutcome?: 'retry' | 'compensate' } = {},
    ) {
      let calls = 0;
      const rec =
        (step: string, phase: 'execute' | 'compensate') =>
        (ctx: { saga: { id: string; attempt: number }; idempotencyKey: string }) =>
          ledger.record({
            sagaId: ctx.saga.id,
            step,
            phase,
            key: ctx.idempotencyKey,
            attempt: ctx.saga.attempt,
          });
      return defineSaga<{ orderId: string }>(uniqueName('blocking'))
        .step({
          name: 'reserve',
          execute: (ctx) => {
            rec('reserve', 'execute')(ctx);
            return { reserved: 1 };
          },
          compensate: rec('reserve', 'compensate'),
        })
        .step({
          name: 'charge',
          ...policy,
          execute: async (ctx) => {
            rec('charge', 'execute')(ctx);
            if (calls++ === 0) await first.wait;
            return { paymentId: `p-${ctx.saga.attempt}` };
          },
          compensate: (ctx) => {
            expect(ctx.paymentId).toBeUndefined();
            rec('charge', 'compensate')(ctx);
          },
        })
        .step({
          name: 'ship',
          execute: (ctx) => {
            rec('ship', 'execute')(ctx);
            return { shipped: true };
          },
        })
        .build();
    }

    it('a restarted worker resumes a crashed saga, retrying the unknown step with the same key', async () => {
      const ledger = new Ledger();
      const g = gate();
      const saga = blockingSaga(ledger, g);
      const crashed = runner({ worker: 'restart-w' });
      const counters = new SagaCounters();
      const handle = await crashed.start(saga, { orderId: 'o1' });
      await until(() => ledger.of(handle.sagaId, 'charge').length === 1, 'charge to start');
      // The "crashed" incarnation is frozen inside `charge`; its successor starts up.
      const restarted = runner({ worker: 'restart-w', observer: counters });
      restarted.register(saga);
      expect(await restarted.recover()).toBe(1);
      const result = await restarted.waitFor(handle.sagaId);
      expect(result.status).toBe('completed');
      expect(counters.resumed.get(saga.name)).toBe(1);
      expect(ledger.keysPer(handle.sagaId, 'charge', 'execute')).toEqual(
        new Set([`${handle.sagaId}/charge`]),
      );
      expect(ledger.of(handle.sagaId, 'charge').map((c) => c.attempt)).toEqual([1, 2]);
      // The old incarnation wakes up: its checkpoint is fenced out, it runs nothing more.
      g.open();
      expect((await handle.result()).status).toBe('completed');
      expect(ledger.of(handle.sagaId, 'ship').map((c) => c.attempt)).toEqual([1]);
      const t = await restarted.inspect.timeline(handle.sagaId);
      expect(t.events.map((e) => e.kind)).toContain('step_recovered');
      expect(t.steps.find((s) => s.step === 'charge')?.attempts).toBe(2);
    });

    it("onUnknownOutcome 'compensate' rolls back after a crash, compensating the unknown step too", async () => {
      const ledger = new Ledger();
      const g = gate();
      const saga = blockingSaga(ledger, g, { onUnknownOutcome: 'compensate' });
      const crashed = runner({ worker: 'unknown-w' });
      const handle = await crashed.start(saga, { orderId: 'o2' });
      await until(() => ledger.of(handle.sagaId, 'charge').length === 1, 'charge to start');
      const restarted = runner({ worker: 'unknown-w' }).register(saga);
      await restarted.recover();
      const result = await restarted.waitFor(handle.sagaId);
      expect(result.status).toBe('compensated');
      expect(ledger.sequence(handle.sagaId)).toEqual([
        'reserve:execute',
        'charge:execute',
        'charge:compensate',
        'reserve:compensate',
      ]);
      g.open();
    });

    it('a step that keeps crashing its worker ends failed (poison) instead of looping', async () => {
      const ledger = new Ledger();
      const g = gate();
      const saga = blockingSaga(ledger, g);
      const crashed = runner({ worker: 'poison-w' });
      const handle = await crashed.start(saga, { orderId: 'o3' });
      await until(() => ledger.of(handle.sagaId, 'charge').length === 1, 'charge to start');
      const restarted = runner({ worker: 'poison-w', maxRecoveryAttempts: 0 }).register(saga);
      await restarted.recover();
      const result = await restarted.waitFor(handle.sagaId);
      expect(result).toMatchObject({ status: 'failed', error: { step: 'charge' } });
      expect(result.status !== 'completed' && result.error.message).toMatch(/kept crashing/);
      expect(await store.get(handle.sagaId)).toMatchObject({ resumeStatus: 'running' });
      g.open();
    });

    it('a worker whose lease expired is fenced out: the new owner finishes, the old one writes nothing', async () => {
      const ledger = new Ledger();
      const g = gate();
      const saga = blockingSaga(ledger, g);
      const slowClock = new ManualClock(1_000);
      const lostLeases: string[] = [];
      const stalled = runner({
        worker: 'stalled',
        clock: slowClock,
        leaseMs: 1_000,
        observer: { leaseLost: (e) => lostLeases.push(e.sagaId) },
      });
      const handle = await stalled.start(saga, { orderId: 'o4' });
      await until(() => ledger.of(handle.sagaId, 'charge').length === 1, 'charge to start');
      // Another worker's clock says the stalled worker's lease ran out long ago.
      const other = runner({ worker: 'other', clock: new ManualClock(60_000), leaseMs: 1_000 }).register(
        saga,
      );
      expect(await other.recover()).toBe(1);
      expect((await other.waitFor(handle.sagaId)).status).toBe('completed');
      g.open();
      await until(() => lostLeases.includes(handle.sagaId), 'the stalled worker to notice');
      expect(ledger.of(handle.sagaId, 'ship')).toHaveLength(1);
      expect(ledger.keysPer(handle.sagaId, 'charge', 'execute').size).toBe(1);
      expect(await store.get(handle.sagaId)).toMatchObject({ status: 'completed', worker: 'other' });
    });

    it('two workers share a backlog of orphaned sagas without ever running the same step twice', async () => {
      const ledger = new Ledger();
      const rec =
        (step: string) => async (ctx: { saga: { id: string; attempt: number }; idempotencyKey: string }) => {
          ledger.record({
            sagaId: ctx.saga.id,
            step,
            phase: 'execute',
            key: ctx.idempotencyKey,
            attempt: ctx.saga.attempt,
          });
          await new Promise((r) => setImmediate(r));
          return { [step]: true };
        };
      const saga: SagaDefinition<{ i: number }, object> = defineSaga<{ i: number }>(uniqueName('shared'))
        .step({ name: 'a', execute: rec('a') })
        .step({ name: 'b', execute: rec('b') })
        .step({ name: 'c', execute: rec('c') })
        .build();
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) {
        const inst = newInstance(saga.name, {
          owner: 'dead#1',
          worker: 'dead',
          leaseUntil: 0,
          context: { i },
          input: { i },
        });
        ids.push(inst.id);
        await store.create(inst, []);
      }
      const peer = fx.openPeer ? await fx.openPeer() : undefined;
      const byWorker = new Map<string, number>();
      const observer = (w: string) => ({ sagaResumed: () => byWorker.set(w, (byWorker.get(w) ?? 0) + 1) });
      const one = runner({ worker: 'one', maxConcurrent: 4, observer: observer('one') }).register(saga);
      const two = runner({
        worker: 'two',
        maxConcurrent: 4,
        store: peer?.store ?? store,
        observer: observer('two'),
      }).register(saga);
      try {
        one.startWorker();
        two.startWorker();
        for (const id of ids) expect((await one.waitFor(id)).status).toBe('completed');
        for (const id of ids) {
          for (const step of ['a', 'b', 'c']) expect(ledger.of(id, step)).toHaveLength(1);
        }
        expect((byWorker.get('one') ?? 0) + (byWorker.get('two') ?? 0)).toBe(40);
        expect(byWorker.get('one')).toBeGreaterThan(0);
        expect(byWorker.get('two')).toBeGreaterThan(0);
      } finally {
        await two.close();
        await peer?.close();
      }
    });

    it('close() aborts running steps and hands leases back, so another worker continues at once', async () => {
      const ledger = new Ledger();
      const saga = defineSaga<{ orderId: string }>(uniqueName('handover'))
        .step({
          name: 'wait',
          execute: (ctx) =>
            new Promise((resolve, reject) => {
              ledger.record({
                sagaId: ctx.saga.id,
                step: 'wait',
                phase: 'execute',
                key: ctx.idempotencyKey,
                attempt: ctx.saga.attempt,
              });
              if (ctx.saga.attempt > 1) resolve({ done: true });
              else ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
            }),
        })
        .build();
      const leaving = new SagaRunner({ store, worker: 'leaving', leaseMs: 3_600_000 });
      const handle = await leaving.start(saga, { orderId: 'o5' });
      await until(() => ledger.of(handle.sagaId).length === 1, 'the step to start');
      const outcome = handle.result().then(
        () => 'resolved',
        (e: unknown) => e,
      );
      await leaving.close();
      expect(isAbortedError(await outcome)).toBe(true);
      expect((await store.get(handle.sagaId))?.leaseUntil).toBe(0);
      const next = runner({ worker: 'next' }).register(saga);
      expect(await next.recover()).toBe(1);
      expect((await next.waitFor(handle.sagaId)).status).toBe('completed');
      expect(ledger.keysPer(handle.sagaId, 'wait', 'execute').size).toBe(1);
    });

    it('renews the lease of a long step, so nobody else takes it meanwhile', async () => {
      const clock = new ManualClock(1_000);
      const g = gate();
      let started = false;
      const saga = defineSaga<{ orderId: string }>(uniqueName('renew'))
        .step({
          name: 'long',
          execute: async () => {
            started = true;
            await g.wait;
            return { ok: 1 };
          },
        })
        .build();
      const holder = runner({ worker: 'holder', clock, leaseMs: 900 });
      const handle = await holder.start(saga, { orderId: 'o6' });
      await until(() => started, 'the step to start');
      // Let each renewal finish (the keeper re-arms its timer after the store answers).
      for (let i = 0; i < 20; i++) {
        await until(() => clock.pendingTimers() > 0, 'the lease keeper to re-arm');
        await clock.advance(300);
      }
      await until(() => clock.pendingTimers() > 0, 'the last renewal');
      expect((await store.get(handle.sagaId))?.leaseUntil).toBeGreaterThan(clock.now());
      const thief = runner({ worker: 'thief', clock, leaseMs: 900 }).register(saga);
      expect(await thief.recover()).toBe(0);
      g.open();
      expect((await handle.result()).status).toBe('completed');
    });

    if (options.transactional) {
      it('starting inside a transaction runs only if it commits', async () => {
        const db = fx.db!;
        const ledger = new Ledger();
        const saga = defineSaga<{ orderId: string }>(uniqueName('in-tx'))
          .step({
            name: 'a',
            execute: (ctx) =>
              void ledger.record({
                sagaId: ctx.saga.id,
                step: 'a',
                phase: 'execute',
                key: ctx.idempotencyKey,
                attempt: 1,
              }),
          })
          .build();
        const r = runner();
        const rolledBackId = uniqueName('rb');
        await expect(
          db.transaction(async (tx) => {
            await r.start(saga, { orderId: 'o7' }, { id: rolledBackId, tx });
            throw new Error('order insert failed');
          }),
        ).rejects.toThrow('order insert failed');
        expect(await store.get(rolledBackId)).toBeUndefined();
        const handle = await db.transaction((tx) =>
          r.start(saga, { orderId: 'o8' }, { id: uniqueName('ok'), tx }),
        );
        expect((await handle.result()).status).toBe('completed');
        expect(ledger.calls.map((c) => c.sagaId)).toEqual([handle.sagaId]);
      });
    }
  });
}
