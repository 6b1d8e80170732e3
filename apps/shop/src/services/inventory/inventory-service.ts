/**
 * The inventory service: public stock levels, admin restocking, and the reservation protocol
 * (reserve / commit / release by key) the place-order saga drives. Seeds demo stock.
 */
import { NotFoundError } from '@trellis/core';
import { route, type Service } from '@trellis/service';
import { inventoryApi } from '../../contracts/inventory.js';
import { DEMO_PRODUCTS } from '../../demo-data.js';
import { requiredKey } from '../../platform/required-key.js';
import { createShopService, type ShopContext } from '../../platform/shop-service.js';
import { InventoryStore } from './inventory-store.js';

/** Stocks the demo products that have no stock record yet. */
export async function seedStock(store: InventoryStore): Promise<number> {
  const existing = new Set((await store.stockOf()).map((s) => s.productId));
  let added = 0;
  for (const product of DEMO_PRODUCTS) {
    if (existing.has(product.id)) continue;
    await store.restock(product.id, product.stock);
    added++;
  }
  return added;
}

/** Builds the inventory service. */
export async function build(ctx: ShopContext): Promise<Service> {
  const store = await InventoryStore.create(ctx.backend.db, ctx.clock);
  if (ctx.config.SHOP_SEED && ctx.config.SHOP_REPLICA === 0 && (await store.stockOf()).length === 0) {
    ctx.logger.info({ added: await seedStock(store) }, 'demo stock created');
  }
  const routes = [
    route(inventoryApi.getStock, async ({ params }) => {
      const stock = await store.stock(params.productId);
      if (!stock) throw new NotFoundError(`No stock record for ${params.productId}`);
      return stock;
    }),
    route(inventoryApi.listStock, async ({ query }) => ({ items: await store.stockOf(query.ids) })),
    route(inventoryApi.restock, ({ params, body }) => store.restock(params.productId, body.quantity)),
    route(inventoryApi.reserve, ({ body, ctx: rc }) =>
      store.reserve(requiredKey(rc), body.orderId, body.items),
    ),
    route(inventoryApi.release, ({ body }) => store.release(body.key)),
    route(inventoryApi.commit, ({ body }) => store.commit(body.key)),
  ];
  return createShopService(ctx, routes, { idempotencyStore: 'memory' });
}
