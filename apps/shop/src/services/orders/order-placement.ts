/**
 * Placing an order: price it with the catalog (never trusting client prices), turn away what
 * cannot possibly be served (unknown products, not enough stock right now) before anything is
 * written, then append the order's events and start its saga **in one transaction** — an
 * accepted order always has a saga, and a saga never exists without its order.
 *
 * With an `Idempotency-Key`, the order id is derived from the customer and the key, so a
 * retried request (even after a crash, even on another replica) finds the same order instead
 * of placing a second one.
 */
import { createHash } from 'node:crypto';
import { type Clock, isConflictError, uuidv7 } from '@trellis/core';
import { isConcurrencyError } from '@trellis/eventstore';
import type { SagaHandle, SagaRunner } from '@trellis/saga';
import { currentTraceparent, type TypedClient } from '@trellis/service';
import type { z } from 'zod';
import type { catalogApi } from '../../contracts/catalog.js';
import type { inventoryApi } from '../../contracts/inventory.js';
import type { PlaceOrderBody } from '../../contracts/orders.js';
import { OutOfStockError, UnknownProductError } from '../../errors.js';
import { OrderAggregate } from './order-aggregate.js';
import type { OrderRepository } from './order-repository.js';
import { orderTotalCents } from './order-total.js';
import { type placeOrderSaga, sagaIdOf } from './place-order-saga.js';

/** The active trace, when there is one (the request placing the order). */
function traceOf(): { traceparent?: string } {
  const traceparent = currentTraceparent();
  return traceparent ? { traceparent } : {};
}

/** The order id for a customer's idempotency key (a UUID-shaped SHA-256 prefix). */
export function orderIdFor(customerId: string, key: string): string {
  const h = createHash('sha256').update(`${customerId}\u0000${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** What placing an order needs. */
export interface PlacementDeps {
  catalog: TypedClient<typeof catalogApi>;
  inventory: TypedClient<typeof inventoryApi>;
  orders: OrderRepository;
  runner: SagaRunner;
  saga: ReturnType<typeof placeOrderSaga>;
  clock: Clock;
}

/** The outcome: the order id, its saga, and whether this call created it. */
export interface Placement {
  orderId: string;
  created: boolean;
  saga: SagaHandle | undefined;
}

/**
 * Validates, prices and places an order.
 *
 * Throws `UnknownProductError` (422), `OutOfStockError` (409) and `ValidationError` (400, a total
 * beyond the largest amount) before writing anything.
 */
export async function placeOrder(
  deps: PlacementDeps,
  input: {
    customerId: string;
    body: z.output<typeof PlaceOrderBody>;
    idempotencyKey?: string | undefined;
    correlationId: string;
  },
): Promise<Placement> {
  const { customerId, body } = input;
  const orderId = input.idempotencyKey
    ? orderIdFor(customerId, input.idempotencyKey)
    : uuidv7(deps.clock.now());
  if (input.idempotencyKey) {
    // One indexed read (no snapshot, no replay) decides whether this key already placed it.
    if ((await deps.orders.events.streamVersion(orderId)) > 0)
      return { orderId, created: false, saga: undefined };
  }
  const ids = [...new Set(body.items.map((i) => i.productId))];
  const [{ items: products }, { items: stock }] = await Promise.all([
    deps.catalog.lookupProducts({ body: { ids } }),
    deps.inventory.listStock({ query: { ids: ids.join(',') } }),
  ]);
  const byId = new Map(products.map((p) => [p.id, p]));
  const unknown = ids.filter((id) => !byId.has(id));
  if (unknown.length > 0) throw new UnknownProductError(unknown);
  const wanted = new Map<string, number>();
  for (const i of body.items) wanted.set(i.productId, (wanted.get(i.productId) ?? 0) + i.quantity);
  for (const [productId, quantity] of wanted) {
    const available = stock.find((s) => s.productId === productId)?.available ?? 0;
    if (available < quantity) throw new OutOfStockError(productId, quantity, available);
  }
  orderTotalCents(
    body.items.map((i) => ({ quantity: i.quantity, unitPriceCents: byId.get(i.productId)?.priceCents ?? 0 })),
  );

  const at = new Date(deps.clock.now()).toISOString();
  const order = new OrderAggregate(orderId);
  order.create(customerId, body.shippingAddress, at);
  for (const item of body.items) {
    const product = byId.get(item.productId);
    if (!product) continue;
    order.addItem(
      {
        productId: product.id,
        name: product.name,
        quantity: item.quantity,
        unitPriceCents: product.priceCents,
      },
      at,
    );
  }
  order.submit(body.paymentMethod, at);
  try {
    const saga = await deps.orders.events.transaction(async (tx) => {
      const metadata = { correlationId: input.correlationId, ...traceOf() };
      await deps.orders.save(order, metadata, tx);
      return deps.runner.start(
        deps.saga,
        {
          orderId,
          customerId,
          items: [...wanted].map(([productId, quantity]) => ({ productId, quantity })),
          totalCents: order.state.totalCents,
          paymentMethod: body.paymentMethod,
          shippingAddress: body.shippingAddress,
          correlationId: input.correlationId,
        },
        {
          id: sagaIdOf(orderId),
          tx,
          // The request's trace: saga steps (and the console's waterfall) join it.
          trace: { correlationId: input.correlationId, ...traceOf() },
        },
      );
    });
    return { orderId, created: true, saga };
  } catch (error) {
    // A concurrent request with the same key placed it first: answer with that order.
    if (input.idempotencyKey && (isConcurrencyError(error) || isConflictError(error))) {
      return { orderId, created: false, saga: undefined };
    }
    throw error;
  }
}
