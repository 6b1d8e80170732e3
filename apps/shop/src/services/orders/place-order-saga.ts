/**
 * The place-order saga (orchestration): reserve stock → charge the card → create the
 * shipment → complete (commit the stock, mark shipped), compensating in reverse on failure
 * (cancel the shipment, refund, release the stock, cancel the order). It runs durably on the
 * orders database: every step outcome is checkpointed, a crash resumes it, and every call
 * carries the step's idempotency key, so a retried step never acts twice.
 *
 * Calls go out as the orders service (its own identity token), never with the token of the
 * customer whose request started the saga.
 */

import { TrellisError } from '@trellis/core';
import { isTransientError } from '@trellis/resilience';
import {
  defineSaga,
  idempotencyKeys,
  type SagaRunInfo,
  type SagaStore,
  type StepRetry,
  TerminalStepError,
} from '@trellis/saga';
import { isUpstreamError, type TypedClient } from '@trellis/service';
import { z } from 'zod';
import { Address } from '../../contracts/common.js';
import type { inventoryApi } from '../../contracts/inventory.js';
import type { paymentsApi } from '../../contracts/payments.js';
import type { shippingApi } from '../../contracts/shipping.js';
import type { ServiceIdentity } from '../../platform/identity.js';
import { ambiguousAsUnknown, unknownOutcome, upstreamCode } from '../../platform/remote-code.js';
import type { OrderRepository } from './order-repository.js';

/** The saga's input (checkpointed: no card data, only the payment method id). */
export const PlaceOrderInput = z.object({
  orderId: z.string().min(1),
  customerId: z.string().min(1),
  items: z.array(z.object({ productId: z.string(), quantity: z.number().int().positive() })).min(1),
  totalCents: z.number().int().min(0),
  paymentMethod: z.string().min(1),
  shippingAddress: Address,
  correlationId: z.string().min(1),
});
/** The saga's input. */
export type PlaceOrderInput = z.output<typeof PlaceOrderInput>;

/** The name the saga is registered and stored under. */
export const PLACE_ORDER_SAGA = 'place-order';

/** The saga id of an order. */
export function sagaIdOf(orderId: string): string {
  return `order-${orderId}`;
}

/** What the saga needs. */
export interface PlaceOrderDeps {
  inventory: TypedClient<typeof inventoryApi>;
  payments: TypedClient<typeof paymentsApi>;
  shipping: TypedClient<typeof shippingApi>;
  orders: OrderRepository;
  identity: ServiceIdentity;
  sagas: SagaStore;
  now: () => string;
}

const IN_PROGRESS = new Set(['CHARGE_IN_PROGRESS', 'IDEMPOTENCY_KEY_IN_PROGRESS']);
/** Transient failures, plus "the same key is still being processed" (try again shortly). */
export const retryable = (e: unknown): boolean =>
  isTransientError(e) || IN_PROGRESS.has(String((e as { code?: unknown }).code));

const forward: StepRetry = {
  maxAttempts: 3,
  backoff: { initialDelay: 100, maxDelay: 1000 },
  isRetryable: retryable,
};
/** Compensations keep trying for about a minute before the saga is marked failed. */
const undo = {
  retry: { maxAttempts: 20, backoff: { initialDelay: 200, maxDelay: 5000 }, isRetryable: retryable },
};

const PAYMENT_UNAVAILABLE = new Set([
  'PROCESSOR_UNAVAILABLE',
  'CIRCUIT_OPEN',
  'UPSTREAM_FAILED',
  'TIMEOUT',
  'DEADLINE_EXCEEDED',
]);

/** Why an order was cancelled, from the error that made its saga compensate. */
export function cancellation(error: { code?: string; message?: string; step?: string } | null | undefined): {
  code: string;
  reason: string;
} {
  if (error?.code === 'OUT_OF_STOCK') return { code: 'out_of_stock', reason: 'Not enough stock' };
  if (error?.code === 'PAYMENT_DECLINED')
    return { code: 'payment_declined', reason: 'The card was declined' };
  if (error?.step === 'chargePayment' && PAYMENT_UNAVAILABLE.has(error.code ?? '')) {
    return { code: 'payment_unavailable', reason: 'Payments are unavailable right now' };
  }
  return {
    code: 'fulfilment_failed',
    reason: `Could not complete the order (${error?.step ?? 'unknown step'})`,
  };
}

/** Why an order the customer asked to cancel was cancelled. */
export function customerCancellation(request: { reason: string }): { code: string; reason: string } {
  return {
    code: 'customer_request',
    reason: `Cancelled at the customer's request${request.reason ? `: ${request.reason}` : ''}`,
  };
}

/**
 * Rethrows an upstream failure under the upstream's own error code (a 503 from payments that
 * says `PROCESSOR_UNAVAILABLE` is stored as that, not as a generic `UPSTREAM_FAILED`).
 */
async function keepUpstreamCode<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const code = upstreamCode(error);
    if (isUpstreamError(error) && code && code !== error.code) {
      throw new TrellisError(code, error.message, error.upstreamStatus || 503, {
        cause: error,
        details: error.details,
      });
    }
    throw error;
  }
}

/** Builds the saga definition. */
export function placeOrderSaga(deps: PlaceOrderDeps) {
  const { inventory, payments, shipping, orders, identity } = deps;
  const as = <T>(ctx: { correlationId: string; signal: AbortSignal }, fn: () => Promise<T>) =>
    identity.run({ correlationId: ctx.correlationId, signal: ctx.signal }, fn);
  const meta = (ctx: { correlationId: string }) => ({ correlationId: ctx.correlationId });
  // Request bodies are built field by field, not passed from the saga context: a context
  // reloaded after a crash (PostgreSQL jsonb) has its keys in another order, and the body of
  // a retried step must be the same request as its first attempt.
  const lines = (ctx: { items: PlaceOrderInput['items'] }) =>
    ctx.items.map((i) => ({ productId: i.productId, quantity: i.quantity }));
  const address = (a: PlaceOrderInput['shippingAddress']) => ({
    name: a.name,
    line1: a.line1,
    ...(a.line2 === undefined ? {} : { line2: a.line2 }),
    city: a.city,
    postalCode: a.postalCode,
    country: a.country,
  });
  /**
   * A customer's cancellation stops the saga before a step acts: checked on a step's first
   * attempt only (a retry may follow an attempt that did act, and a failed step is not
   * compensated), so what already happened is always compensated and nothing new starts.
   */
  const unlessCancelRequested = async (ctx: { orderId: string; saga: SagaRunInfo }) => {
    if (ctx.saga.attempt !== 1) return;
    const order = await orders.load(ctx.orderId);
    if (order.state.cancelRequest) {
      throw new TerminalStepError(`Order ${ctx.orderId}: the customer asked to cancel it`);
    }
  };

  return defineSaga(PLACE_ORDER_SAGA, { input: PlaceOrderInput })
    .step({
      // Nothing to do going forward; its compensation (always the last one) cancels the order.
      name: 'openOrder',
      execute: () => ({}),
      compensate: async (ctx) => {
        const saga = await deps.sagas.get(ctx.saga.id);
        await orders.update(
          ctx.orderId,
          (o) => {
            const request = o.state.cancelRequest;
            const { code, reason } = request ? customerCancellation(request) : cancellation(saga?.error);
            o.cancel(reason, code, deps.now());
          },
          meta(ctx),
        );
      },
      compensation: undo,
    })
    .step({
      name: 'reserveInventory',
      retry: forward,
      timeoutMs: 10_000,
      execute: async (ctx) => {
        const reservation = await as(ctx, () =>
          ambiguousAsUnknown(
            ctx.saga.attempt,
            inventory.reserve(
              { body: { orderId: ctx.orderId, items: lines(ctx) } },
              { idempotencyKey: ctx.idempotencyKey, signal: ctx.signal },
            ),
          ),
        );
        return { reservationId: reservation.id };
      },
      compensate: (ctx) =>
        as(ctx, () =>
          inventory.release(
            { body: { key: ctx.executeIdempotencyKey } },
            { idempotencyKey: ctx.idempotencyKey, signal: ctx.signal },
          ),
        ),
      compensation: undo,
    })
    .step({
      name: 'chargePayment',
      retry: { ...forward, backoff: { initialDelay: 250, maxDelay: 2000 } },
      timeoutMs: 15_000,
      execute: async (ctx) => {
        await unlessCancelRequested(ctx);
        const charge = await as(ctx, () =>
          keepUpstreamCode(
            ambiguousAsUnknown(
              ctx.saga.attempt,
              payments.charge(
                {
                  body: {
                    orderId: ctx.orderId,
                    customerId: ctx.customerId,
                    amountCents: ctx.totalCents,
                    currency: 'EUR',
                    paymentMethod: ctx.paymentMethod,
                  },
                },
                { idempotencyKey: ctx.idempotencyKey, signal: ctx.signal },
              ),
            ),
          ),
        );
        // The card is charged: whatever fails from here on, the refund must run.
        await orders
          .update(ctx.orderId, (o) => o.markPaid(charge.id, charge.amountCents, deps.now()), meta(ctx))
          .catch((error: unknown) => {
            throw unknownOutcome(error);
          });
        return { paymentId: charge.id };
      },
      compensate: async (ctx) => {
        const refund = await as(ctx, () =>
          // No Idempotency-Key: a refund is idempotent by charge key, and a stored
          // "still in progress, retry" answer would be replayed to every retry.
          payments.refund(
            { body: { chargeKey: ctx.executeIdempotencyKey, reason: 'order cancelled' } },
            { signal: ctx.signal },
          ),
        );
        if (refund.refundedCents > 0 && refund.charge) {
          const paymentId = refund.charge.id;
          await orders.update(
            ctx.orderId,
            (o) => o.recordRefund(paymentId, refund.refundedCents, deps.now()),
            meta(ctx),
          );
        }
      },
      compensation: undo,
    })
    .step({
      name: 'createShipment',
      retry: forward,
      timeoutMs: 10_000,
      execute: async (ctx) => {
        await unlessCancelRequested(ctx);
        const shipment = await as(ctx, () =>
          ambiguousAsUnknown(
            ctx.saga.attempt,
            shipping.createShipment(
              { body: { orderId: ctx.orderId, address: address(ctx.shippingAddress), items: lines(ctx) } },
              { idempotencyKey: ctx.idempotencyKey, signal: ctx.signal },
            ),
          ),
        );
        return { shipmentId: shipment.id, trackingNumber: shipment.trackingNumber };
      },
      compensate: (ctx) =>
        as(ctx, () =>
          shipping.cancelShipment(
            { body: { key: ctx.executeIdempotencyKey } },
            { idempotencyKey: ctx.idempotencyKey, signal: ctx.signal },
          ),
        ),
      compensation: undo,
    })
    .pivot({
      // The point of no return: the stock leaves the warehouse and the order is shipped.
      name: 'completeOrder',
      retry: { maxAttempts: 10, backoff: { initialDelay: 200, maxDelay: 5000 }, isRetryable: retryable },
      timeoutMs: 10_000,
      execute: async (ctx) => {
        await unlessCancelRequested(ctx);
        await as(ctx, () =>
          inventory.commit(
            { body: { key: idempotencyKeys(ctx.saga.id, 'reserveInventory').execute } },
            { idempotencyKey: ctx.idempotencyKey, signal: ctx.signal },
          ),
        );
        await orders.update(
          ctx.orderId,
          (o) => o.markShipped(ctx.shipmentId, ctx.trackingNumber, deps.now()),
          meta(ctx),
        );
        return {};
      },
    })
    .build();
}
