/**
 * The orders service: event-sourced orders (snapshots on), the place-order saga runner
 * (durable on the orders database, recovering its own and crashed workers' sagas), the
 * transactional outbox relay publishing order events to the bus, and the CQRS read model fed
 * back from the bus through the inbox.
 */
import { ForbiddenError, isAbortedError, NotFoundError, UnauthorizedError } from '@trellis/core';
import { outboxAppendHook, withInbox } from '@trellis/messaging';
import { tracedHandler, tracedSaga } from '@trellis/ops';
import { combineObservers, SagaRunner } from '@trellis/saga';
import {
  type Identity,
  isRemoteError,
  route,
  type Service,
  sagaMetricsObserver,
  type TypedClient,
} from '@trellis/service';
import { catalogApi } from '../../contracts/catalog.js';
import { inventoryApi } from '../../contracts/inventory.js';
import { ordersApi } from '../../contracts/orders.js';
import { paymentsApi } from '../../contracts/payments.js';
import { shippingApi } from '../../contracts/shipping.js';
import { ADMIN_ROLE } from '../../platform/identity.js';
import { answeredUnavailable } from '../../platform/remote-code.js';
import { createShopService, type ShopContext, shopClient } from '../../platform/shop-service.js';
import { requestCancellation } from './order-cancellation.js';
import { orderEvents, orderTopic } from './order-events.js';
import { placeOrder } from './order-placement.js';
import { OrderReadModel, READ_MODEL_GROUP } from './order-read-model.js';
import { OrderRepository } from './order-repository.js';
import { placeOrderSaga } from './place-order-saga.js';

const TERMINAL = new Set(['shipped', 'cancelled']);

function caller(identity: Identity | undefined): { subject: string; admin: boolean } {
  if (!identity || identity.kind === 'anonymous') throw new UnauthorizedError();
  return { subject: identity.subject, admin: identity.roles.includes(ADMIN_ROLE) };
}

/** Builds the orders service. */
export async function build(ctx: ShopContext): Promise<Service> {
  const { backend, clock, logger } = ctx;
  const events = await backend.eventStore({ registry: orderEvents, clock });
  const snapshots = await backend.snapshotStore();
  const sagas = await backend.sagaStore();
  const { outbox, startRelay } = await backend.outbox();
  events.onAppend(
    outboxAppendHook(outbox, {
      topic: (e) => orderTopic(e.eventType),
      payload: (e) => ({ orderId: e.aggregateId, ...(e.payload as object) }),
    }),
  );
  const orders = new OrderRepository(events, snapshots);
  const readModel = new OrderReadModel(backend.db, (id, tx) => events.getEvents(id, 0, { tx }));
  await readModel.setup();
  const inbox = await backend.inbox();
  const { bus, deadLetters } = await ctx.bus();

  const runner = new SagaRunner({
    store: sagas,
    clock,
    worker: `orders-${ctx.config.SHOP_REPLICA}`,
    deadLetters,
    observer: combineObservers(sagaMetricsObserver(ctx.metrics), {
      sagaFailed: (e) => logger.error({ sagaId: e.sagaId, step: e.step }, 'saga failed: needs attention'),
    }),
  });
  ctx.metrics.sagaStates(async () =>
    Object.entries(await sagas.countByStatus()).map(([state, count]) => ({
      saga: 'place-order',
      state,
      count,
    })),
  );

  // Routes use the clients, and the clients come from the service (its tracing and metrics):
  // the handlers read them from this holder, filled right after the service is created.
  const deps = {} as {
    catalog: TypedClient<typeof catalogApi>;
    inventory: TypedClient<typeof inventoryApi>;
    saga: ReturnType<typeof placeOrderSaga>;
  };

  const loadVisible = async (id: string, identity: Identity | undefined) => {
    const who = caller(identity);
    const order = await orders.load(id);
    // Another customer's order is indistinguishable from a missing one.
    if (order.version === 0 || (!who.admin && order.state.customerId !== who.subject)) {
      throw new NotFoundError(`No order ${id}`);
    }
    return order;
  };

  const routes = [
    route(ordersApi.placeOrder, async ({ body, ctx: rc }) => {
      const who = caller(rc.identity);
      const placed = await placeOrder(
        { catalog: deps.catalog, inventory: deps.inventory, orders, runner, saga: deps.saga, clock },
        { customerId: who.subject, body, idempotencyKey: rc.idempotencyKey, correlationId: rc.correlationId },
      );
      if (placed.saga && ctx.config.ORDER_WAIT_MS > 0) {
        await placed.saga
          .result({ signal: AbortSignal.timeout(ctx.config.ORDER_WAIT_MS) })
          .catch((error: unknown) => {
            if (!isAbortedError(error)) throw error;
          });
      }
      const order = await loadVisible(placed.orderId, rc.identity);
      if (!TERMINAL.has(order.state.status)) rc.setStatus(202);
      rc.setHeader('location', `/api/orders/${placed.orderId}`);
      return order.toView();
    }),
    route(ordersApi.getOrder, async ({ params, ctx: rc }) =>
      (await loadVisible(params.id, rc.identity)).toView(),
    ),
    route(ordersApi.listOrders, async ({ query, ctx: rc }) => {
      const who = caller(rc.identity);
      if (query.customerId && !who.admin && query.customerId !== who.subject) {
        throw new ForbiddenError('Only admins list other customers’ orders');
      }
      return readModel.list({ ...query, customerId: who.admin ? query.customerId : who.subject });
    }),
    route(ordersApi.cancelOrder, async ({ params, body, ctx: rc }) => {
      await loadVisible(params.id, rc.identity);
      const order = await requestCancellation(
        { orders, runner, clock, waitMs: ctx.config.ORDER_WAIT_MS },
        { orderId: params.id, reason: body.reason ?? '', correlationId: rc.correlationId },
      );
      if (order.state.status !== 'cancelled') rc.setStatus(202);
      return order.toView();
    }),
    route(ordersApi.getOrderEvents, async ({ params }) => {
      const stream = await events.getEvents(params.id);
      if (stream.length === 0) throw new NotFoundError(`No order ${params.id}`);
      return {
        events: stream.map((e) => ({
          id: e.id,
          eventType: e.eventType,
          version: e.version,
          position: e.position,
          timestamp: e.timestamp.toISOString(),
          payload: e.payload,
        })),
      };
    }),
  ];
  const service = await createShopService(ctx, routes);
  // What the console reads from this service.
  ctx.ops
    .provideSagas(sagas, runner)
    .provideEvents(events)
    .provideDeadLetters(deadLetters)
    .provideReadModel('orders', (id) => readModel.get(id));
  deps.catalog = shopClient(ctx, service, 'catalog', catalogApi);
  deps.inventory = shopClient(ctx, service, 'inventory', inventoryApi, { retry: { maxAttempts: 2 } });
  // The saga's clients make exactly one attempt per step attempt: the step retries by itself,
  // and a client retry would hide whether the request was ever sent (see outcomeUnknown).
  deps.saga = placeOrderSaga({
    inventory: shopClient(ctx, service, 'inventory', inventoryApi, { retry: false }),
    payments: shopClient(ctx, service, 'payments', paymentsApi, {
      timeoutMs: 10_000,
      retry: false,
      // Payments saying "the card processor is unavailable" is payments working: not its failure.
      breaker: {
        failureThreshold: 5,
        timeout: 5000,
        isFailure: (e) => !isRemoteError(e) && !answeredUnavailable(e, ['PROCESSOR_UNAVAILABLE']),
      },
    }),
    shipping: shopClient(ctx, service, 'shipping', shippingApi, { retry: false }),
    orders,
    identity: ctx.identity,
    sagas,
    now: () => new Date(clock.now()).toISOString(),
  });
  // Each step and compensation runs in its own span under the order's trace (after a crash too).
  deps.saga = tracedSaga(service.tracing, deps.saga);
  runner.register(deps.saga);

  // Choreography: the read model follows the order events on the bus, effectively once.
  const readModelSubscription = await bus.subscribe<Record<string, unknown>>(
    'order.*',
    ctx.ops.faults.wrap(
      READ_MODEL_GROUP,
      tracedHandler(
        service.tracing,
        READ_MODEL_GROUP,
        withInbox(inbox, (message, tx) => readModel.apply(message, tx)),
      ),
    ),
    { group: READ_MODEL_GROUP, concurrency: 16, from: 'all' },
  );
  const relay = startRelay(bus, {
    onError: (error) => logger.warn({ err: error }, 'outbox relay batch failed'),
  });
  ctx.metrics.outboxBacklog(() => relay.backlog());
  runner.startWorker();

  service.onFlush('outbox', () => relay.flush());
  service.onClose('outbox relay', () => relay.stop());
  service.onClose('read model consumer', () => readModelSubscription.close());
  service.onClose('saga runner', () => runner.close({ graceMs: 2000 }));
  return service;
}
