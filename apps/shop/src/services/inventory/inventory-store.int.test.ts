import { PostgresDatabase } from '@trellis/postgres';
import { createTestDatabase, serverUrl } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOutOfStockError } from '../../errors.js';
import { InventoryStore } from './inventory-store.js';

// Two replicas of inventory share one PostgreSQL database: reservations from two pools (two
// processes' worth of connections) compete for the same rows.
describe.skipIf(!serverUrl('postgres'))('InventoryStore on PostgreSQL with two replicas', () => {
  let one: PostgresDatabase;
  let two: PostgresDatabase;

  beforeAll(async () => {
    const url = await createTestDatabase('shop_inventory');
    one = PostgresDatabase.connect(url, { max: 8 });
    two = PostgresDatabase.connect(url, { max: 8 });
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
  });

  it('never oversells, never double-reserves a key, and conserves stock', async () => {
    const [a, b] = await Promise.all([InventoryStore.create(one), InventoryStore.create(two)]);
    await a.restock('p1', 20);
    await a.restock('p2', 20);
    const attempts = Array.from({ length: 60 }, (_, i) => {
      const store = i % 2 === 0 ? a : b;
      // Lines in both orders (p1,p2 and p2,p1): locks are taken in id order, so no deadlock.
      const items =
        i % 3 === 0
          ? [
              { productId: 'p2', quantity: 1 },
              { productId: 'p1', quantity: 1 },
            ]
          : [
              { productId: 'p1', quantity: 1 },
              { productId: 'p2', quantity: 1 },
            ];
      // Every key is sent twice, once per replica.
      const key = `k${Math.floor(i / 2)}`;
      return store.reserve(key, `o${Math.floor(i / 2)}`, items).then(
        (r) => r.id,
        (e: unknown) => (isOutOfStockError(e) ? 'out' : `error: ${String(e)}`),
      );
    });
    const results = await Promise.all(attempts);
    expect(results.filter((r) => r.startsWith('error'))).toEqual([]);
    const ids = new Set(results.filter((r) => r !== 'out'));
    expect(ids.size).toBe(20);
    for (const s of await a.stockOf()) {
      expect(s).toMatchObject({ available: 0, reserved: 20, initial: 20 });
    }
  });
});
