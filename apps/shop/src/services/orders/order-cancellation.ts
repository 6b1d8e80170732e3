/**
 * Cancelling an order at the customer's request. Orders are fulfilled by the place-order saga,
 * so a cancellation cannot simply mark the order cancelled (a charge or shipment in flight
 * would be left behind): it records the request on the order's stream, the saga stops before
 * its next step and compensates what it did (refund, stock released, shipment cancelled), and
 * the compensation cancels the order with the customer's reason. Once the saga has passed its
 * point of no return the order ships and the request is refused.
 */
import { type Clock, sleep } from '@trellis/core';
import type { SagaRunner } from '@trellis/saga';
import { OrderStateError } from '../../errors.js';
import type { OrderAggregate } from './order-aggregate.js';
import type { OrderRepository } from './order-repository.js';
import { sagaIdOf } from './place-order-saga.js';

/** What a cancellation needs. */
export interface CancellationDeps {
  orders: OrderRepository;
  runner: SagaRunner;
  clock: Clock;
  /** How long to wait for the saga to wind the order back before answering (ms). */
  waitMs: number;
}

/**
 * Records the cancellation request of `orderId` (already checked to be visible to the caller)
 * and waits up to `waitMs` for the saga to finish. Returns the order as it then is: cancelled,
 * or still winding back (the caller answers 202).
 *
 * Throws `OrderStateError` (409) when the order has shipped, before or while waiting.
 *
 * @example
 * ```ts
 * const order = await requestCancellation(deps, { orderId, reason: 'ordered twice', correlationId });
 * if (order.state.status !== 'cancelled') rc.setStatus(202);
 * ```
 */
export async function requestCancellation(
  deps: CancellationDeps,
  input: { orderId: string; reason: string; correlationId: string },
): Promise<OrderAggregate> {
  const { orders, runner, clock } = deps;
  const at = new Date(clock.now()).toISOString();
  const requested = await orders.update(input.orderId, (o) => o.requestCancellation(input.reason, at), {
    correlationId: input.correlationId,
  });
  if (requested.state.status !== 'cancelled' && deps.waitMs > 0) {
    const stop = new AbortController();
    try {
      await Promise.race([
        runner.waitFor(sagaIdOf(input.orderId), stop.signal).catch(() => undefined),
        sleep(deps.waitMs, { clock, signal: stop.signal }).catch(() => undefined),
      ]);
    } finally {
      stop.abort();
    }
  }
  const order = await orders.load(input.orderId);
  if (order.state.status === 'shipped') throw new OrderStateError(input.orderId, 'shipped', 'cancel');
  return order;
}
