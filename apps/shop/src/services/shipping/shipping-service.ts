/** The shipping service: shipments created and cancelled by key, listed for admins. */
import { route, type Service } from '@trellis/service';
import { shippingApi } from '../../contracts/shipping.js';
import { requiredKey } from '../../platform/required-key.js';
import { createShopService, type ShopContext } from '../../platform/shop-service.js';
import { ShippingStore } from './shipping-store.js';

/** Builds the shipping service. */
export async function build(ctx: ShopContext): Promise<Service> {
  const store = await ShippingStore.create(ctx.backend.db, ctx.clock);
  const routes = [
    route(shippingApi.createShipment, ({ body, ctx: rc }) => store.create(requiredKey(rc), body)),
    route(shippingApi.cancelShipment, ({ body }) => store.cancel(body.key)),
    route(shippingApi.listShipments, async ({ query }) => ({
      items: await store.list(query.orderId, query.limit),
    })),
  ];
  return createShopService(ctx, routes, { idempotencyStore: 'memory' });
}
