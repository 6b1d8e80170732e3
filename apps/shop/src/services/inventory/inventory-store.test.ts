import { isConflictError, isNotFoundError } from '@trellis/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isOutOfStockError } from '../../errors.js';
import { tempSqlite } from '../../testing/temp-sqlite.js';
import { InventoryStore } from './inventory-store.js';

let t: ReturnType<typeof tempSqlite>;
let store: InventoryStore;

beforeEach(async () => {
  t = tempSqlite();
  store = await InventoryStore.create(t.db);
  await store.restock('a', 10);
  await store.restock('b', 3);
});
afterEach(() => t.cleanup());

const conserved = async () => {
  for (const s of await store.stockOf()) expect(s.initial).toBe(s.available + s.reserved + s.shipped);
};

describe('InventoryStore', () => {
  it('reserves every item or none, and never goes negative', async () => {
    await expect(
      store.reserve('k1', 'o1', [
        { productId: 'a', quantity: 2 },
        { productId: 'b', quantity: 4 },
      ]),
    ).rejects.toSatisfy(isOutOfStockError);
    expect(await store.stock('a')).toMatchObject({ available: 10, reserved: 0 });
    const r = await store.reserve('k2', 'o2', [
      { productId: 'a', quantity: 2 },
      { productId: 'b', quantity: 3 },
    ]);
    expect(r.status).toBe('reserved');
    expect(await store.stock('b')).toMatchObject({ available: 0, reserved: 3 });
    await expect(store.reserve('k3', 'o3', [{ productId: 'b', quantity: 1 }])).rejects.toSatisfy(
      isOutOfStockError,
    );
    await expect(store.reserve('k4', 'o4', [{ productId: 'unknown', quantity: 1 }])).rejects.toSatisfy(
      isOutOfStockError,
    );
    await conserved();
  });

  it('returns the same reservation for the same key and never reserves it twice', async () => {
    const first = await store.reserve('k', 'o', [{ productId: 'a', quantity: 4 }]);
    const again = await store.reserve('k', 'o', [{ productId: 'a', quantity: 4 }]);
    expect(again.id).toBe(first.id);
    expect(await store.stock('a')).toMatchObject({ available: 6, reserved: 4 });
  });

  it('sums repeated lines of one product into one', async () => {
    const r = await store.reserve('k', 'o', [
      { productId: 'b', quantity: 2 },
      { productId: 'b', quantity: 1 },
    ]);
    expect(r.items).toEqual([{ productId: 'b', quantity: 3 }]);
    expect(await store.stock('b')).toMatchObject({ available: 0, reserved: 3 });
  });

  it('releases reserved units once, and committed units back from shipped', async () => {
    await store.reserve('k1', 'o1', [{ productId: 'a', quantity: 3 }]);
    await store.release('k1');
    await store.release('k1');
    expect(await store.stock('a')).toMatchObject({ available: 10, reserved: 0, shipped: 0 });
    await store.reserve('k2', 'o2', [{ productId: 'a', quantity: 2 }]);
    await store.commit('k2');
    await store.commit('k2');
    expect(await store.stock('a')).toMatchObject({ available: 8, reserved: 0, shipped: 2 });
    await store.release('k2');
    expect(await store.stock('a')).toMatchObject({ available: 10, shipped: 0 });
    await conserved();
  });

  it('leaves a tombstone when a release comes before its reserve, refusing the late reserve', async () => {
    const tomb = await store.release('late');
    expect(tomb.status).toBe('released');
    await expect(store.reserve('late', 'o', [{ productId: 'a', quantity: 1 }])).rejects.toSatisfy(
      isConflictError,
    );
    expect(await store.stock('a')).toMatchObject({ available: 10, reserved: 0 });
  });

  it('refuses to commit an unknown or released key', async () => {
    await expect(store.commit('nope')).rejects.toSatisfy(isNotFoundError);
    await store.reserve('k', 'o', [{ productId: 'a', quantity: 1 }]);
    await store.release('k');
    await expect(store.commit('k')).rejects.toSatisfy(isConflictError);
  });

  it('conserves stock under many concurrent reservations competing for little stock', async () => {
    const attempts = Array.from({ length: 40 }, (_, i) =>
      store.reserve(`c${i}`, `o${i}`, [{ productId: 'b', quantity: 1 }]).then(
        () => 'ok',
        (e: unknown) => (isOutOfStockError(e) ? 'out' : 'error'),
      ),
    );
    const outcomes = await Promise.all(attempts);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'error')).toHaveLength(0);
    expect(await store.stock('b')).toMatchObject({ available: 0, reserved: 3 });
    await conserved();
  });
});
