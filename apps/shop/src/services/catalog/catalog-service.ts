/** The catalog service: browsing, search, batch lookup for pricing, admin writes, demo seed. */
import { isConflictError, NotFoundError } from '@trellis/core';
import { route, type Service } from '@trellis/service';
import { catalogApi } from '../../contracts/catalog.js';
import { DEMO_PRODUCTS } from '../../demo-data.js';
import { createShopService, type ShopContext } from '../../platform/shop-service.js';
import { CatalogStore } from './catalog-store.js';

/** Adds the demo products that are missing; returns how many were added. */
export async function seedCatalog(store: CatalogStore): Promise<number> {
  let added = 0;
  for (const { stock: _stock, ...product } of DEMO_PRODUCTS) {
    if (await store.get(product.id)) continue;
    try {
      await store.insert(product);
      added++;
    } catch (error) {
      if (!isConflictError(error)) throw error; // another replica added it first
    }
  }
  return added;
}

/** Builds the catalog service. */
export async function build(ctx: ShopContext): Promise<Service> {
  const store = await CatalogStore.create(ctx.backend.db, ctx.clock);
  if (ctx.config.SHOP_SEED && (await store.count()) === 0) {
    ctx.logger.info({ added: await seedCatalog(store) }, 'demo catalog created');
  }
  const routes = [
    route(catalogApi.listProducts, ({ query }) => store.list(query)),
    route(catalogApi.getProduct, async ({ params }) => {
      const product = await store.get(params.id);
      if (!product) throw new NotFoundError(`No product ${params.id}`);
      return product;
    }),
    route(catalogApi.lookupProducts, async ({ body }) => ({ items: await store.getMany(body.ids) })),
    route(catalogApi.listCategories, async () => ({ items: await store.categories() })),
    route(catalogApi.createProduct, ({ body }) => store.insert(body)),
    route(catalogApi.updateProduct, async ({ params, body }) => {
      const product = await store.update(params.id, body);
      if (!product) throw new NotFoundError(`No product ${params.id}`);
      return product;
    }),
  ];
  return createShopService(ctx, routes);
}
