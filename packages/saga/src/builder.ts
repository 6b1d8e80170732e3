/**
 * The typed saga builder: each step's result type is merged into the context type the next
 * step sees, so `ctx.paymentId` is known (and typed) only after the step that produces it.
 */
import type { ZodType } from 'zod';
import { type SagaDefinition, validateDefinition } from './definition.js';
import type { CompensationContext, SagaStep, StepContext, StepPolicies, StepRetry } from './step.js';

/** `{ ...C, ...R }` at the type level, as the runtime merge does. */
export type Merge<C, R> = R extends object ? Simplify<Omit<C, keyof R> & R> : C;
type Simplify<T> = { [K in keyof T]: T[K] };

/** A step as written in the builder: `execute` sees `C`, compensation also sees `R` (maybe). */
export interface StepDefinition<C, R> extends StepPolicies {
  name: string;
  execute(ctx: StepContext<C>): R | Promise<R>;
  /**
   * Undoes `execute`. The result fields are optional here: a step whose outcome is unknown
   * (timed out, or crashed with `onUnknownOutcome: 'compensate'`) is compensated without them;
   * use `ctx.executeIdempotencyKey` to find what it did.
   */
  compensate?(ctx: CompensationContext<C & Partial<Awaited<R>>>): unknown;
}

/** The pivot: no compensation, and it always retries an unknown outcome. */
export interface PivotStepDefinition<C, R> extends Omit<StepPolicies, 'onUnknownOutcome' | 'compensation'> {
  name: string;
  execute(ctx: StepContext<C>): R | Promise<R>;
}

/** A step after the pivot: it can only go forward, so it must say how it retries. */
export interface ForwardStepDefinition<C, R> extends Omit<StepPolicies, 'onUnknownOutcome' | 'compensation'> {
  name: string;
  execute(ctx: StepContext<C>): R | Promise<R>;
  retry: StepRetry;
}

type StepResult<R> = Awaited<R> extends object ? Awaited<R> : unknown;

/** Builds a saga before its pivot. */
export class SagaBuilder<I extends object, C> {
  /** @internal */
  constructor(
    protected readonly name: string,
    protected readonly steps: SagaStep<never>[],
    protected readonly schema: ZodType<I> | undefined,
  ) {}

  /** Adds a compensatable step; its result is merged into the context of later steps. */
  step<R>(def: StepDefinition<C, R>): SagaBuilder<I, Merge<C, StepResult<R>>> {
    return new SagaBuilder(this.name, [...this.steps, def as SagaStep<never>], this.schema);
  }

  /** Adds the pivot step: after it succeeds, the saga can only move forward. */
  pivot<R>(def: PivotStepDefinition<C, R>): PivotedSagaBuilder<I, Merge<C, StepResult<R>>> {
    const step = { ...def, pivot: true } as SagaStep<never>;
    return new PivotedSagaBuilder(this.name, [...this.steps, step], this.schema);
  }

  /**
   * Finishes the definition.
   *
   * Throws `SagaDefinitionError` when it is invalid (no steps, repeated step names…).
   */
  build(): SagaDefinition<I, C> {
    const def: SagaDefinition<I, C> = {
      name: this.name,
      steps: Object.freeze([...this.steps]),
      ...(this.schema ? { input: this.schema } : {}),
    };
    validateDefinition(def);
    return Object.freeze(def);
  }
}

/** Builds the steps after the pivot: retriable-only, no compensation. */
export class PivotedSagaBuilder<I extends object, C> {
  /** @internal */
  constructor(
    private readonly name: string,
    private readonly steps: SagaStep<never>[],
    private readonly schema: ZodType<I> | undefined,
  ) {}

  /** Adds a forward-only step with its (required) retry policy. */
  step<R>(def: ForwardStepDefinition<C, R>): PivotedSagaBuilder<I, Merge<C, StepResult<R>>> {
    return new PivotedSagaBuilder(this.name, [...this.steps, def as SagaStep<never>], this.schema);
  }

  /** Finishes the definition; throws `SagaDefinitionError` when it is invalid. */
  build(): SagaDefinition<I, C> {
    return new SagaBuilder<I, C>(this.name, this.steps, this.schema).build();
  }
}

/**
 * Starts a typed saga definition. Give the input type as a type argument, or a zod schema
 * (then the input is validated at start, and the type is inferred from it).
 *
 * @example
 * ```ts
 * const placeOrder = defineSaga('place-order', { input: z.object({ orderId: z.string(), amount: z.number() }) })
 *   .step({
 *     name: 'reserve',
 *     execute: async (ctx) => ({ reservationId: await inventory.reserve(ctx.orderId, ctx.idempotencyKey) }),
 *     compensate: (ctx) => inventory.release(ctx.executeIdempotencyKey),
 *   })
 *   .pivot({ name: 'charge', execute: async (ctx) => ({ paymentId: await pay(ctx.amount, ctx.idempotencyKey) }) })
 *   .step({ name: 'notify', retry: { maxAttempts: 10 }, execute: (ctx) => mail(ctx.orderId, ctx.paymentId) })
 *   .build();
 * ```
 */
export function defineSaga<I extends object>(name: string): SagaBuilder<I, I>;
export function defineSaga<I extends object>(name: string, options: { input: ZodType<I> }): SagaBuilder<I, I>;
export function defineSaga<I extends object>(
  name: string,
  options?: { input?: ZodType<I> },
): SagaBuilder<I, I> {
  return new SagaBuilder<I, I>(name, [], options?.input);
}
