import { isConflictError, isValidationError } from '@trellis/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempSqlite } from '../../testing/temp-sqlite.js';
import { seedCatalog } from './catalog-service.js';
import { CatalogStore } from './catalog-store.js';

let t: ReturnType<typeof tempSqlite>;
let store: CatalogStore;

beforeEach(async () => {
  t = tempSqlite();
  store = await CatalogStore.create(t.db);
  await seedCatalog(store);
});
afterEach(() => t.cleanup());

describe('CatalogStore', () => {
  it('seeds the demo catalog once', async () => {
    const count = await store.count();
    expect(count).toBe(12);
    expect(await seedCatalog(store)).toBe(0);
    expect(await store.count()).toBe(count);
  });

  it('pages by name without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ limit: 5, cursor });
      seen.push(...page.items.map((p) => p.name));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(12);
    expect([...seen].sort()).toEqual(seen);
  });

  it('searches name, description and SKU, filters by category and price', async () => {
    expect((await store.list({ q: 'BEANS', limit: 20 })).items).toHaveLength(3);
    expect((await store.list({ q: 'eqp-00', limit: 20 })).items).toHaveLength(4);
    expect((await store.list({ category: 'tea', limit: 20 })).items.map((p) => p.id)).toEqual([
      'p-green-tea',
    ]);
    const cheap = await store.list({ maxPrice: 1000, limit: 20 });
    expect(cheap.items.every((p) => p.priceCents <= 1000)).toBe(true);
    expect((await store.list({ q: '_', limit: 20 })).items).toHaveLength(0);
  });

  it('refuses a duplicate SKU and a malformed cursor', async () => {
    await expect(
      store.insert({ sku: 'COF-001', name: 'x', description: '', category: 'coffee', priceCents: 1 }),
    ).rejects.toSatisfy(isConflictError);
    await expect(store.list({ limit: 5, cursor: 'garbage' })).rejects.toSatisfy(isValidationError);
  });

  it('updates prices and looks up several products at once', async () => {
    expect((await store.update('p-mug', { priceCents: 1900 }))?.priceCents).toBe(1900);
    expect(await store.update('missing', { priceCents: 1 })).toBeUndefined();
    const found = await store.getMany(['p-mug', 'p-kettle', 'missing', 'p-mug']);
    expect(found.map((p) => p.id).sort()).toEqual(['p-kettle', 'p-mug']);
  });
});
