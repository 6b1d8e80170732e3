/**
 * An order whose total exceeds the largest amount is refused with a 400 naming `items` and
 * writes nothing; before, it was placed, its own answer was a 500 (the response failed its
 * schema) and every admin listing of all orders answered 500 from then on. Found by the fuzzer
 * (an admin priced a product near the maximum, a customer bought three).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADDRESS } from '../../demo-data.js';
import { startTestShop, type TestShop } from '../../e2e/test-shop.js';

let t: TestShop;
beforeAll(async () => {
  t = await startTestShop({ serviceEnv: { TRELLIS_AGENT_PROVIDER: 'none' } });
});
afterAll(async () => {
  await t?.stop();
});

describe('an order beyond the largest amount', () => {
  it('is refused (400, items named), writes nothing, and leaves the order listing working', async () => {
    const admin = await t.login('admin');
    const alice = await t.login('alice');
    const product = await admin.request('POST', '/api/products', {
      body: {
        id: 'p-golden',
        sku: 'GOLD-1',
        name: 'Golden kettle',
        category: 'equipment',
        priceCents: 99_999_999,
      },
    });
    expect(product.status).toBe(201);
    expect(
      (await admin.request('POST', '/api/stock/p-golden/restock', { body: { quantity: 10 } })).status,
    ).toBe(200);
    const order = (quantity: number) =>
      alice.request<{ error?: { code: string; message: string }; totalCents?: number }>(
        'POST',
        '/api/orders',
        {
          body: {
            items: [{ productId: 'p-golden', quantity }],
            shippingAddress: DEMO_ADDRESS,
            paymentMethod: 'pm_card_visa',
          },
        },
      );
    const listed = async () => {
      const res = await admin.request<{ items: unknown[] }>('GET', '/api/orders?limit=100');
      expect(res.status).toBe(200);
      return res.body.items.length;
    };
    const before = await listed();

    const tooMuch = await order(3);
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.error?.code).toBe('VALIDATION_FAILED');
    expect(tooMuch.body.error?.message).toContain('"items"');
    expect(await listed()).toBe(before);

    const one = await order(1);
    expect(one.status).toBe(201);
    expect(one.body.totalCents).toBe(99_999_999);
  });
});
