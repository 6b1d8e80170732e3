/**
 * The seed's orchestrated saga as a base class: declare `steps`, call `execute(context)`.
 * A subclass is also a {@link SagaDefinition}, so the same class runs durably on a
 * `SagaRunner` without changes.
 */
import type { SagaDefinition } from './definition.js';
import { type InMemoryRunOptions, runInMemory } from './run-in-memory.js';
import type { SagaStep } from './step.js';

/**
 * Base class for seed-style sagas.
 *
 * @example
 * ```ts
 * class OrderSaga extends Saga<OrderContext> {
 *   steps = [
 *     { name: 'reserveInventory', execute: (ctx) => inventory.reserve(ctx.productId, ctx.quantity),
 *       compensate: (ctx) => inventory.release(ctx.productId, ctx.quantity) },
 *     { name: 'processPayment', execute: (ctx) => payments.charge(ctx.userId, ctx.amount),
 *       compensate: (ctx) => payments.refund(ctx.paymentId) },
 *   ];
 * }
 * const done = await new OrderSaga().execute({ productId: 'p1', quantity: 2, userId: 'u1', amount: 20 });
 * ```
 */
export abstract class Saga<C extends object = Record<string, unknown>> implements SagaDefinition<C, C> {
  /** Name in storage when run durably; defaults to the class name. */
  readonly name: string;
  /** The steps, in order. Public so tests can replace a step's `execute` or `compensate`. */
  abstract steps: SagaStep<C>[];

  constructor(name?: string) {
    this.name = name ?? new.target.name;
  }

  /**
   * Runs the steps in order, merging each result into the context, and returns the final
   * context.
   *
   * Throws `SagaExecutionError(stepName, cause)` when a step failed and every completed step
   * was compensated in reverse order; `SagaFailedError` when a compensation failed for good.
   */
  execute(context: C, options?: InMemoryRunOptions): Promise<C> {
    return runInMemory<C, C>(this as SagaDefinition<C, C>, context, options);
  }
}
