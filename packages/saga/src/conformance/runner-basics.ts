/**
 * Durable runner scenarios, part 1: the orchestration semantics on a real store — completion,
 * reverse compensation, retries with one idempotency key, terminal errors, failing
 * compensations, pivots, timeouts, idempotent starts, input validation and metrics.
 */
import { flushMicrotasks, isAbortedError, isValidationError, ManualClock } from '@trellis/core';
import { InMemoryDeadLetterStore } from '@trellis/messaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../builder.js';
import {
  isSagaConflictError,
  isSagaExecutionError,
  isSagaStateError,
  SagaNotFoundError,
  TerminalStepError,
} from '../errors.js';
import { SagaCounters } from '../observer.js';
import { SagaRunner } from '../runner.js';
import type { SagaStore } from '../store.js';
import { type SagaStoreFactory, type SagaStoreFixture, uniqueName } from './fixture.js';
import { Ledger } from './ledger.js';

const fast = { initialDelay: 0, maxDelay: 0, jitter: 'none' as const };

/** Registers runner scenarios about orchestration semantics for a backend. */
export function describeSagaRunnerBasics(backend: string, factory: SagaStoreFactory): void {
  describe(`SagaRunner on ${backend}: orchestration`, () => {
    let fx: SagaStoreFixture;
    let store: SagaStore;
    const runners: SagaRunner[] = [];
    const runner = (opts: Partial<ConstructorParameters<typeof SagaRunner>[0]> = {}) => {
      const r = new SagaRunner({ store, pollIntervalMs: 5, ...opts });
      runners.push(r);
      return r;
    };
    beforeAll(async () => {
      fx = await factory();
      store = fx.store;
    });
    afterAll(async () => {
      for (const r of runners) await r.close();
      await fx?.close();
    });

    /** A three-step saga whose steps record into `ledger`; `fail` makes a step throw. */
    function threeSteps(ledger: Ledger, fail: { step?: string; error?: () => unknown } = {}) {
      const call =
        (step: string) => async (ctx: { idempotencyKey: string; saga: { id: string; attempt: number } }) => {
          ledger.record({
            sagaId: ctx.saga.id,
            step,
            phase: 'execute',
            key: ctx.idempotencyKey,
            attempt: ctx.saga.attempt,
          });
          if (fail.step === step) throw fail.error ? fail.error() : new Error(`${step} broke`);
          return { [`${step}Id`]: `${step}-${ctx.saga.id}` };
        };
      const undo =
        (step: string) =>
        async (ctx: {
          idempotencyKey: string;
          executeIdempotencyKey: string;
          saga: { id: string; attempt: number };
        }) => {
          expect(ctx.executeIdempotencyKey).toBe(`${ctx.saga.id}/${step}`);
          ledger.record({
            sagaId: ctx.saga.id,
            step,
            phase: 'compensate',
            key: ctx.idempotencyKey,
            attempt: ctx.saga.attempt,
          });
        };
      return defineSaga<{ orderId: string }>(uniqueName('three'))
        .step({ name: 'reserve', execute: call('reserve'), compensate: undo('reserve') })
        .step({ name: 'charge', execute: call('charge'), compensate: undo('charge') })
        .step({ name: 'ship', execute: call('ship'), compensate: undo('ship') })
        .build();
    }

    it('completes a three-step saga: results merge, keys are per step, the timeline tells it', async () => {
      const ledger = new Ledger();
      const counters = new SagaCounters();
      const r = runner({ observer: counters });
      const saga = threeSteps(ledger);
      const trace = {
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        correlationId: 'order-1',
      };
      const result = await r.run(saga, { orderId: 'o1' }, { id: uniqueName('done'), trace });
      expect(result.status).toBe('completed');
      const id = result.sagaId;
      if (result.status !== 'completed') return;
      expect(result.context).toEqual({
        orderId: 'o1',
        reserveId: `reserve-${id}`,
        chargeId: `charge-${id}`,
        shipId: `ship-${id}`,
      });
      expect(ledger.sequence(id)).toEqual(['reserve:execute', 'charge:execute', 'ship:execute']);
      expect(ledger.of(id).map((c) => c.key)).toEqual([`${id}/reserve`, `${id}/charge`, `${id}/ship`]);
      const t = await r.inspect.timeline(id);
      expect(t.instance).toMatchObject({ status: 'completed', trace, version: 4 });
      expect(t.events.map((e) => `${e.kind}${e.step ? `:${e.step}` : ''}`)).toEqual([
        'saga_started',
        'step_started:reserve',
        'step_succeeded:reserve',
        'step_started:charge',
        'step_succeeded:charge',
        'step_started:ship',
        'step_succeeded:ship',
        'saga_completed',
      ]);
      expect(t.steps.map((s) => [s.step, s.status, s.attempts])).toEqual([
        ['reserve', 'succeeded', 1],
        ['charge', 'succeeded', 1],
        ['ship', 'succeeded', 1],
      ]);
      expect(counters.started.get(saga.name)).toBe(1);
      expect(counters.completed.get(saga.name)).toBe(1);
      expect(counters.steps.get(`${saga.name}/charge/execute`)?.count).toBe(1);
    });

    it('compensates completed steps in reverse order and ends compensated', async () => {
      const ledger = new Ledger();
      const counters = new SagaCounters();
      const r = runner({ observer: counters });
      const saga = threeSteps(ledger, { step: 'ship' });
      const result = await r.run(saga, { orderId: 'o2' });
      expect(result.status).toBe('compensated');
      if (result.status === 'completed') return;
      expect(result.error).toMatchObject({ step: 'ship', message: 'ship broke' });
      expect(ledger.sequence(result.sagaId)).toEqual([
        'reserve:execute',
        'charge:execute',
        'ship:execute',
        'charge:compensate',
        'reserve:compensate',
      ]);
      expect(ledger.of(result.sagaId, 'charge', 'compensate')[0]?.key).toBe(
        `${result.sagaId}/charge/compensate`,
      );
      const t = await r.inspect.timeline(result.sagaId);
      expect(t.events.filter((e) => e.kind.startsWith('saga_')).map((e) => e.kind)).toEqual([
        'saga_started',
        'saga_compensated',
      ]);
      expect(t.steps.map((s) => s.status)).toEqual(['compensated', 'compensated', 'failed']);
      expect(counters.compensated.get(saga.name)).toBe(1);
      await expect(r.execute(saga, { orderId: 'o3' })).rejects.toSatisfy(
        (e: unknown) =>
          isSagaExecutionError(e) && e.stepName === 'ship' && (e.cause as Error).message === 'ship broke',
      );
    });

    it('retries a step with the same idempotency key and records every attempt', async () => {
      const ledger = new Ledger();
      let failures = 2;
      const saga = defineSaga<{ n: number }>(uniqueName('retry'))
        .step({
          name: 'flaky',
          retry: { maxAttempts: 3, backoff: fast },
          execute: (ctx) => {
            ledger.record({
              sagaId: ctx.saga.id,
              step: 'flaky',
              phase: 'execute',
              key: ctx.idempotencyKey,
              attempt: ctx.saga.attempt,
            });
            if (failures-- > 0) throw new Error(`transient ${failures}`);
            return { ok: true };
          },
        })
        .build();
      const r = runner();
      const result = await r.run(saga, { n: 1 });
      expect(result.status).toBe('completed');
      const calls = ledger.of(result.sagaId);
      expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
      expect(new Set(calls.map((c) => c.key)).size).toBe(1);
      const t = await r.inspect.timeline(result.sagaId);
      expect(t.steps[0]).toMatchObject({ status: 'succeeded', attempts: 3 });
      expect(t.steps[0]?.errors.map((e) => e.message)).toEqual(['transient 1', 'transient 0']);
    });

    it('never retries a TerminalStepError, and 4xx errors are terminal by default', async () => {
      const ledger = new Ledger();
      const saga = threeSteps(ledger, {
        step: 'charge',
        error: () => new TerminalStepError('card declined'),
      });
      const withRetry = {
        ...saga,
        steps: saga.steps.map((s) => ({ ...s, retry: { maxAttempts: 5, backoff: fast } })),
      };
      const result = await runner().run(withRetry, { orderId: 'o4' });
      expect(result.status).toBe('compensated');
      expect(ledger.of(result.sagaId, 'charge', 'execute')).toHaveLength(1);
      expect(ledger.sequence(result.sagaId)).toEqual([
        'reserve:execute',
        'charge:execute',
        'reserve:compensate',
      ]);
    });

    it('a compensation that keeps failing ends failed, dead-lettered, and an operator resume finishes it', async () => {
      const deadLetters = new InMemoryDeadLetterStore();
      const counters = new SagaCounters();
      const r = runner({ deadLetters, observer: counters });
      let refundWorks = false;
      const saga = defineSaga<{ orderId: string }>(uniqueName('stuck'))
        .step({
          name: 'charge',
          execute: () => ({ paymentId: 'p-1' }),
          compensate: () => {
            if (!refundWorks) throw new Error('refund service down');
          },
          compensation: { retry: { maxAttempts: 2, backoff: fast } },
        })
        .step({ name: 'ship', execute: () => Promise.reject(new Error('no courier')) })
        .build();
      const result = await r.run(saga, { orderId: 'o5' });
      expect(result.status).toBe('failed');
      const row = await r.inspect.get(result.sagaId);
      expect(row).toMatchObject({
        status: 'failed',
        resumeStatus: 'compensating',
        error: { step: 'charge' },
      });
      expect(counters.failed.get(saga.name)).toBe(1);
      const letters = await deadLetters.list({
        topic: `saga.${saga.name.replace(/[^A-Za-z0-9_-]/g, '_')}.failed`,
      });
      expect(letters).toHaveLength(1);
      expect(letters[0]?.payload).toMatchObject({ sagaId: result.sagaId, step: 'charge' });
      expect((await r.inspect.list({ status: 'failed', name: saga.name })).map((i) => i.id)).toEqual([
        result.sagaId,
      ]);

      await expect(r.resume(result.sagaId + 'x')).rejects.toBeInstanceOf(SagaNotFoundError);
      refundWorks = true;
      const resumed = await (await r.resume(result.sagaId, 'ticket-7')).result();
      expect(resumed.status).toBe('compensated');
      await expect(r.resume(result.sagaId)).rejects.toSatisfy(isSagaStateError);
      const t = await r.inspect.timeline(result.sagaId);
      expect(t.events.map((e) => e.kind)).toContain('operator_resumed');
      expect(t.steps.find((s) => s.step === 'charge')).toMatchObject({
        status: 'compensated',
        compensationAttempts: 3,
      });
    });

    it('an operator resume through the inspector is picked up by a worker', async () => {
      const r = runner();
      let works = false;
      const saga = defineSaga<{ x: number }>(uniqueName('inspector-resume'))
        .step({
          name: 'a',
          execute: () => ({}),
          compensate: () => {
            if (!works) throw new TerminalStepError('still broken');
          },
        })
        .step({ name: 'b', execute: () => Promise.reject(new TerminalStepError('nope')) })
        .build();
      const failed = await r.run(saga, { x: 1 });
      expect(failed.status).toBe('failed');
      works = true;
      const reopened = await r.inspect.requestResume(failed.sagaId);
      expect(reopened).toMatchObject({ status: 'compensating', leaseUntil: 0 });
      await expect(r.inspect.requestResume(failed.sagaId)).rejects.toSatisfy(isSagaStateError);
      expect(await r.recover()).toBe(1);
      expect((await r.waitFor(failed.sagaId)).status).toBe('compensated');
    });

    it('after the pivot, steps only go forward: giving up ends failed without compensating', async () => {
      const ledger = new Ledger();
      let notifyWorks = false;
      const saga = defineSaga<{ orderId: string }>(uniqueName('pivot'))
        .step({
          name: 'reserve',
          execute: () => ({ reserved: true }),
          compensate: (ctx) =>
            void ledger.record({
              sagaId: ctx.saga.id,
              step: 'reserve',
              phase: 'compensate',
              key: ctx.idempotencyKey,
              attempt: 1,
            }),
        })
        .pivot({ name: 'charge', execute: () => ({ paymentId: 'p' }) })
        .step({
          name: 'notify',
          retry: { maxAttempts: 2, backoff: fast },
          execute: (ctx) => {
            if (!notifyWorks) throw new Error('mail down');
            return { notified: ctx.paymentId };
          },
        })
        .build();
      const r = runner();
      const result = await r.run(saga, { orderId: 'o6' });
      expect(result.status).toBe('failed');
      expect(ledger.calls).toEqual([]);
      expect(await r.inspect.get(result.sagaId)).toMatchObject({
        resumeStatus: 'running',
        error: { step: 'notify' },
      });
      notifyWorks = true;
      const resumed = await (await r.resume(result.sagaId)).result();
      expect(resumed).toMatchObject({ status: 'completed', context: { notified: 'p', reserved: true } });
    });

    it('a step that times out has an unknown outcome: it is compensated too', async () => {
      const clock = new ManualClock(1_000);
      const ledger = new Ledger();
      let started!: () => void;
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      const saga = defineSaga<{ orderId: string }>(uniqueName('timeout'))
        .step({
          name: 'reserve',
          execute: () => ({ r: 1 }),
          compensate: (ctx) =>
            void ledger.record({
              sagaId: ctx.saga.id,
              step: 'reserve',
              phase: 'compensate',
              key: ctx.idempotencyKey,
              attempt: 1,
            }),
        })
        .step({
          name: 'charge',
          timeoutMs: 5_000,
          execute: (ctx) =>
            new Promise((_, reject) => {
              started();
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
            }),
          compensate: (ctx) => {
            expect(ctx).not.toHaveProperty('paymentId');
            ledger.record({
              sagaId: ctx.saga.id,
              step: 'charge',
              phase: 'compensate',
              key: ctx.idempotencyKey,
              attempt: 1,
            });
          },
        })
        .build();
      const r = runner({ clock });
      const handle = await r.start(saga, { orderId: 'o7' });
      await running;
      await clock.advance(5_000);
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'compensated', error: { code: 'TIMEOUT', step: 'charge' } });
      expect(ledger.sequence(result.sagaId)).toEqual(['charge:compensate', 'reserve:compensate']);
      await flushMicrotasks();
    });

    it('waiting on a saga running in this process stops when the caller aborts; the saga carries on', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const saga = defineSaga<{ orderId: string }>(uniqueName('slow'))
        .step({
          name: 'slow',
          execute: async () => {
            await gate;
            return { done: true };
          },
        })
        .build();
      const r = runner();
      const handle = await r.start(saga, { orderId: 'o-wait' });
      const ac = new AbortController();
      const waiting = handle.result({ signal: ac.signal });
      ac.abort(new Error('client went away'));
      expect(isAbortedError(await waiting.catch((e: unknown) => e))).toBe(true);
      release();
      expect((await handle.result()).status).toBe('completed');
    });

    it('starting is idempotent by id: one run, and a different request under the same id is a conflict', async () => {
      const ledger = new Ledger();
      const saga = threeSteps(ledger);
      const r = runner();
      const id = uniqueName('idem');
      const handles = await Promise.all(
        Array.from({ length: 10 }, () => r.start(saga, { orderId: 'o8' }, { id })),
      );
      expect(handles.filter((h) => h.created)).toHaveLength(1);
      const results = await Promise.all(handles.map((h) => h.result()));
      expect(new Set(results.map((x) => x.status))).toEqual(new Set(['completed']));
      expect(ledger.of(id, 'reserve')).toHaveLength(1);
      const again = await r.start(saga, { orderId: 'o8' }, { id });
      expect(again.created).toBe(false);
      expect((await again.result()).status).toBe('completed');
      await expect(r.start(saga, { orderId: 'other' }, { id })).rejects.toSatisfy(isSagaConflictError);
      await expect(r.start(threeSteps(ledger), { orderId: 'o8' }, { id })).rejects.toSatisfy(
        isSagaConflictError,
      );
    });

    it('rejects bad input with a ValidationError naming the field, and writes nothing', async () => {
      const saga = defineSaga('validated', {
        input: z.object({ orderId: z.string().min(1), amount: z.number().positive() }),
      })
        .step({ name: 'a', execute: () => ({}) })
        .build();
      const r = runner();
      const id = uniqueName('invalid');
      await expect(r.start(saga, { orderId: 'o9', amount: -5 }, { id })).rejects.toSatisfy(
        (e: unknown) => isValidationError(e) && e.issues[0]?.path === 'amount',
      );
      expect(await store.get(id)).toBeUndefined();
      const loose = defineSaga<Record<string, unknown>>(uniqueName('loose'))
        .step({ name: 'a', execute: () => ({}) })
        .build();
      await expect(r.start(loose, { saga: 'mine' }, { id })).rejects.toSatisfy(
        (e: unknown) => isValidationError(e) && e.issues[0]?.path === 'saga',
      );
      await expect(r.start(loose, { when: 1n } as never, { id })).rejects.toSatisfy(isValidationError);
      expect(await store.get(id)).toBeUndefined();
    });

    it('a step result using a reserved context key fails the step instead of shadowing the runtime', async () => {
      const saga = defineSaga<{ a: number }>(uniqueName('reserved'))
        .step({ name: 'bad', execute: () => ({ idempotencyKey: 'mine' }) })
        .build();
      const result = await runner().run(saga, { a: 1 });
      expect(result).toMatchObject({
        status: 'compensated',
        error: { code: 'SAGA_STEP_TERMINAL', step: 'bad' },
      });
    });
  });
}
