/**
 * The payments service: saved payment methods, charges and refunds for the place-order saga
 * (idempotent by key, guarded by a breaker around the card-processor simulator), and the
 * admin endpoints that steer the simulator at runtime.
 */
import { UnauthorizedError } from '@trellis/core';
import { type Identity, route, type Service } from '@trellis/service';
import { paymentsApi } from '../../contracts/payments.js';
import { requiredKey } from '../../platform/required-key.js';
import { createShopService, type ShopContext } from '../../platform/shop-service.js';
import { CardProcessorSimulator } from './card-processor.js';
import { ChargeDesk } from './charge-desk.js';
import { resolveMethod, saveCard } from './payment-methods.js';
import { PaymentsStore, type StoredCharge } from './payments-store.js';

function customerOf(identity: Identity | undefined): string {
  if (identity?.kind !== 'user') throw new UnauthorizedError('A user identity is required');
  return identity.subject;
}

/** The public shape of a charge (internal fields stripped by the response schema too). */
function publicCharge({ processorRef: _ref, updatedAt: _at, ...charge }: StoredCharge) {
  return charge;
}

/** Builds the payments service. */
export async function build(ctx: ShopContext): Promise<Service> {
  const store = await PaymentsStore.create(ctx.backend.db, ctx.clock);
  const processor = await CardProcessorSimulator.create(ctx.backend.db, { clock: ctx.clock });
  const desk = new ChargeDesk(store, processor, { clock: ctx.clock });
  ctx.metrics.trackBreaker(desk.breaker, 'card-processor');
  desk.breaker.onStateChange(({ from, to, reason }) =>
    ctx.logger.warn({ breaker: 'card-processor', from, to, reason }, 'breaker state changed'),
  );

  const routes = [
    route(paymentsApi.createPaymentMethod, async ({ body, ctx: rc }) => {
      const method = await saveCard(store, customerOf(rc.identity), body.card, new Date(ctx.clock.now()));
      return method;
    }),
    route(paymentsApi.listPaymentMethods, async ({ ctx: rc }) => ({
      items: await store.methodsOf(customerOf(rc.identity)),
    })),
    route(paymentsApi.charge, async ({ body, ctx: rc }) => {
      const method = await resolveMethod(store, body.customerId, body.paymentMethod);
      const charge = await desk.charge({
        key: requiredKey(rc),
        orderId: body.orderId,
        customerId: body.customerId,
        amountCents: body.amountCents,
        method,
      });
      return publicCharge(charge);
    }),
    route(paymentsApi.refund, async ({ body }) => {
      const { charge, refundedCents } = await desk.refund(body.chargeKey, body.reason);
      return { charge: charge ? publicCharge(charge) : null, refundedCents };
    }),
    route(paymentsApi.listCharges, async ({ query }) => ({
      items: (await store.list(query.orderId, query.limit)).map(publicCharge),
    })),
    route(paymentsApi.getProcessor, async () => {
      const m = desk.breaker.metrics;
      return {
        config: await processor.currentConfig(),
        breaker: { state: m.state, failures: m.failures, rejections: m.rejections },
        calls: { ...processor.calls },
      };
    }),
    route(paymentsApi.setProcessor, async ({ body }) => {
      const config = await processor.configure(body);
      ctx.logger.warn({ config }, 'card processor reconfigured');
      return { config };
    }),
  ];
  const service = await createShopService(ctx, routes, { idempotencyStore: 'memory' });
  service.onClose('card-processor breaker', () => desk.breaker.dispose());
  return service;
}
