import { ManualClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { defineSaga } from './builder.js';
import { isSagaExecutionError, isSagaFailedError, TerminalStepError } from './errors.js';
import { InventoryService, OrderSaga, PaymentService, ShippingService } from './examples/order-saga.js';
import { SagaCounters } from './observer.js';
import { runInMemory } from './run-in-memory.js';

const fast = { initialDelay: 0, maxDelay: 0, jitter: 'none' as const };

describe('the seed OrderSaga, in memory', () => {
  it('runs every step and merges each result into the context', async () => {
    const saga = new OrderSaga();
    const out = await saga.execute({
      orderId: 'o1',
      productId: 'p1',
      quantity: 2,
      userId: 'u1',
      amount: 30,
      address: 'x',
    });
    expect(out).toMatchObject({ orderId: 'o1', paymentId: 'pay_1', shipmentId: 'ship_1' });
    expect(saga.inventoryService.reserved.get('p1')).toBe(2);
    expect(saga.paymentService.charges.get('pay_1')).toMatchObject({ amount: 30, refunded: false });
  });

  it('undoes completed steps in reverse order with the context they produced', async () => {
    const inventory = new InventoryService();
    const payments = new PaymentService();
    const shipping = new ShippingService();
    const saga = new OrderSaga(inventory, payments, shipping);
    const order: string[] = [];
    const release = saga.steps[0].compensate!;
    const refund = saga.steps[1].compensate!;
    saga.steps[0].compensate = (ctx) => {
      order.push('release');
      return release(ctx);
    };
    saga.steps[1].compensate = (ctx) => {
      order.push(`refund ${ctx.paymentId}`);
      return refund(ctx);
    };
    saga.steps[2].execute = () => Promise.reject(new Error('no courier'));
    const err = await saga.execute({ productId: 'p1', quantity: 1, amount: 5 }).catch((e: unknown) => e);
    expect(isSagaExecutionError(err) && err.stepName).toBe('createShipment');
    expect((err as Error).cause).toMatchObject({ message: 'no courier' });
    expect(order).toEqual(['refund pay_1', 'release']);
    expect(payments.charges.get('pay_1')?.refunded).toBe(true);
    expect(inventory.reserved.get('p1')).toBe(0);
  });

  it('a compensation that fails for good becomes SagaFailedError naming that step', async () => {
    const saga = new OrderSaga();
    saga.steps[0].compensate = () => Promise.reject(new TerminalStepError('warehouse offline'));
    saga.steps[1].execute = () => Promise.reject(new Error('card declined'));
    const err = await saga.execute({}).catch((e: unknown) => e);
    expect(isSagaFailedError(err) && err.stepName).toBe('reserveInventory');
  });
});

describe('runInMemory', () => {
  it('gives every attempt of a step the same idempotency key, and reports to the observer', async () => {
    const keys: string[] = [];
    let fails = 2;
    const counters = new SagaCounters();
    const saga = defineSaga<{ n: number }>('retrying')
      .step({
        name: 'flaky',
        retry: { maxAttempts: 3, backoff: fast },
        execute: (ctx) => {
          keys.push(`${ctx.idempotencyKey}#${ctx.saga.attempt}`);
          if (fails-- > 0) throw new Error('blip');
          return { done: ctx.n };
        },
      })
      .build();
    expect(await runInMemory(saga, { n: 7 }, { id: 'run-1', observer: counters })).toEqual({ n: 7, done: 7 });
    expect(keys).toEqual(['run-1/flaky#1', 'run-1/flaky#2', 'run-1/flaky#3']);
    expect(counters.completed.get('retrying')).toBe(1);
    expect(counters.steps.get('retrying/flaky/execute')).toMatchObject({ count: 1, errors: 0 });
  });

  it('a timed-out step is compensated too, and the trace context reaches every step', async () => {
    const clock = new ManualClock();
    const seen: string[] = [];
    let started!: () => void;
    const running = new Promise<void>((r) => {
      started = r;
    });
    const saga = defineSaga<{ id: string }>('timeouts')
      .step({
        name: 'slow',
        timeoutMs: 1000,
        execute: (ctx) =>
          new Promise((_, reject) => {
            seen.push(ctx.saga.trace.traceparent ?? '');
            started();
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
          }),
        compensate: (ctx) => void seen.push(`undo ${ctx.executeIdempotencyKey}`),
      })
      .build();
    const trace = { traceparent: '00-aaaabbbbccccddddeeeeffff00001111-2222333344445555-01' };
    const run = runInMemory(saga, { id: 'x' }, { id: 'r', clock, trace }).catch((e: unknown) => e);
    await running;
    await clock.advance(1000);
    const err = await run;
    expect(isSagaExecutionError(err)).toBe(true);
    expect(seen).toEqual([trace.traceparent, 'undo r/slow']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('after the pivot a failure is SagaFailedError and nothing is compensated', async () => {
    const undone: string[] = [];
    const saga = defineSaga<{ id: string }>('pivoted')
      .step({ name: 'hold', execute: () => ({ held: true }), compensate: () => void undone.push('hold') })
      .pivot({ name: 'commit', execute: () => ({ committed: true }) })
      .step({
        name: 'notify',
        retry: { maxAttempts: 2, backoff: fast },
        execute: () => Promise.reject(new Error('smtp')),
      })
      .build();
    const err = await runInMemory(saga, { id: 'a' }).catch((e: unknown) => e);
    expect(isSagaFailedError(err) && err.stepName).toBe('notify');
    expect(undone).toEqual([]);
  });

  it('stops without compensating when the caller aborts', async () => {
    const controller = new AbortController();
    const undone: string[] = [];
    const saga = defineSaga<{ id: string }>('aborted')
      .step({ name: 'a', execute: () => ({}), compensate: () => void undone.push('a') })
      .step({
        name: 'b',
        execute: (ctx) =>
          new Promise((_, reject) => {
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
            controller.abort(new Error('shutting down'));
          }),
      })
      .build();
    await expect(runInMemory(saga, { id: 'x' }, { signal: controller.signal })).rejects.toThrow(
      'shutting down',
    );
    expect(undone).toEqual([]);
  });
});
