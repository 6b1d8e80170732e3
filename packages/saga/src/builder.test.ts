import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from './builder.js';
import type { SagaOutput } from './definition.js';
import { isSagaDefinitionError } from './errors.js';
import type { StepContext } from './step.js';

describe('defineSaga', () => {
  it('flows each step result into the context type of the steps after it', () => {
    const saga = defineSaga<{ orderId: string; amount: number }>('typed')
      .step({
        name: 'reserve',
        execute: async (ctx) => {
          expectTypeOf(ctx.orderId).toEqualTypeOf<string>();
          expectTypeOf(ctx.idempotencyKey).toEqualTypeOf<string>();
          return { reservationId: 'r1' };
        },
        compensate: (ctx) => {
          expectTypeOf(ctx.reservationId).toEqualTypeOf<string | undefined>();
          expectTypeOf(ctx.executeIdempotencyKey).toEqualTypeOf<string>();
        },
      })
      .step({
        name: 'charge',
        execute: (ctx) => {
          expectTypeOf(ctx.reservationId).toEqualTypeOf<string>();
          return { paymentId: 7 };
        },
      })
      .pivot({ name: 'commit', execute: (ctx) => ({ receipt: `${ctx.paymentId}` }) })
      .step({
        name: 'notify',
        retry: { maxAttempts: 3 },
        execute: (ctx: StepContext<{ receipt: string; orderId: string }>) => {
          expectTypeOf(ctx.receipt).toEqualTypeOf<string>();
        },
      })
      .build();
    expectTypeOf<SagaOutput<typeof saga>>().toEqualTypeOf<{
      orderId: string;
      amount: number;
      reservationId: string;
      paymentId: number;
      receipt: string;
    }>();
    expect(saga.steps.map((s) => s.name)).toEqual(['reserve', 'charge', 'commit', 'notify']);
    expect(saga.steps[2]?.pivot).toBe(true);
    expect(Object.isFrozen(saga)).toBe(true);
  });

  it('infers the input type from a zod schema', () => {
    const saga = defineSaga('schema', { input: z.object({ sku: z.string(), qty: z.number().int() }) })
      .step({ name: 'a', execute: (ctx) => ({ label: `${ctx.sku} x${ctx.qty}` }) })
      .build();
    expectTypeOf<SagaOutput<typeof saga>>().toEqualTypeOf<{ sku: string; qty: number; label: string }>();
    expect(saga.input?.safeParse({ sku: 'a', qty: 1.5 }).success).toBe(false);
  });

  it('rejects definitions that cannot run safely', () => {
    const bad = [
      () => defineSaga('empty').build(),
      () =>
        defineSaga('')
          .step({ name: 'a', execute: () => undefined })
          .build(),
      () =>
        defineSaga('dupes')
          .step({ name: 'a', execute: () => undefined })
          .step({ name: 'a', execute: () => undefined })
          .build(),
      () =>
        defineSaga('zero')
          .step({ name: 'a', retry: { maxAttempts: 0 }, execute: () => undefined })
          .build(),
      () =>
        defineSaga('two-pivots')
          .pivot({ name: 'a', execute: () => undefined })
          // A second pivot can only be smuggled in by hand; the runtime check still catches it.
          .step({ name: 'b', retry: { maxAttempts: 2 }, execute: () => undefined, pivot: true } as never)
          .build(),
      () =>
        defineSaga('undo-after-pivot')
          .pivot({ name: 'a', execute: () => undefined })
          .step({
            name: 'b',
            retry: { maxAttempts: 2 },
            execute: () => undefined,
            compensate: () => undefined,
          } as never)
          .build(),
      () =>
        defineSaga('no-retry-after-pivot')
          .pivot({ name: 'a', execute: () => undefined })
          .step({ name: 'b', execute: () => undefined } as never)
          .build(),
    ];
    for (const build of bad)
      expect(build).toThrow(expect.objectContaining({ code: 'SAGA_DEFINITION_INVALID' }));
    try {
      bad[2]!();
    } catch (e) {
      expect(isSagaDefinitionError(e)).toBe(true);
      expect((e as Error).message).toMatch(/repeats step "a"/);
    }
  });
});
