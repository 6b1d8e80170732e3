import { isConflictError } from '@trellis/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_ADDRESS } from '../../demo-data.js';
import { tempSqlite } from '../../testing/temp-sqlite.js';
import { ShippingStore } from './shipping-store.js';

let t: ReturnType<typeof tempSqlite>;
let store: ShippingStore;
const input = { orderId: 'o1', address: DEMO_ADDRESS, items: [{ productId: 'p', quantity: 1 }] };

beforeEach(async () => {
  t = tempSqlite();
  store = await ShippingStore.create(t.db);
});
afterEach(() => t.cleanup());

describe('ShippingStore', () => {
  it('creates one shipment per key and cancels it idempotently', async () => {
    const a = await store.create('k', input);
    const b = await store.create('k', input);
    expect(b.id).toBe(a.id);
    expect(a.trackingNumber).toMatch(/^TRL[0-9A-F]{12}$/);
    expect((await store.cancel('k')).status).toBe('cancelled');
    expect((await store.cancel('k')).status).toBe('cancelled');
    expect(await store.list('o1', 10)).toHaveLength(1);
  });

  it('refuses a create after its key was cancelled first (a tombstone)', async () => {
    await store.cancel('late');
    await expect(store.create('late', input)).rejects.toSatisfy(isConflictError);
    expect(await store.list(undefined, 10)).toHaveLength(0);
  });
});
