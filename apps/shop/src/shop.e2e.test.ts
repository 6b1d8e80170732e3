/**
 * The shop end to end, embedded mode: every service and the gateway as real processes, every
 * request real HTTP through the gateway. One shop for the file; each test uses its own users,
 * so rate limits and orders never interfere.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADDRESS } from './demo-data.js';
import { eventually, startTestShop, type TestShop } from './e2e/test-shop.js';
import { checkInvariants, formatInvariantReport } from './invariants/check-invariants.js';
import { ShopApi } from './load/shop-api.js';

type OrderBody = {
  id: string;
  status: string;
  totalCents: number;
  cancelReason: string | null;
  trackingNumber: string | null;
};
type StockBody = { available: number; reserved: number; shipped: number; initial: number };

let t: TestShop;

beforeAll(async () => {
  t = await startTestShop({
    // Low per-user limits so one test can hit them; every other test stays far below.
    gatewayEnv: { RATE_LIMIT_CAPACITY: '40', RATE_LIMIT_PER_SECOND: '20' },
  });
});

afterAll(async () => {
  await t?.stop();
  rmSync(t.dataDir, { recursive: true, force: true });
});

function order(
  api: ShopApi,
  items: Array<{ productId: string; quantity: number }>,
  paymentMethod = 'pm_card_visa',
  key = randomUUID(),
) {
  return api.post<OrderBody & { error?: { code: string; details?: unknown } }>(
    '/api/orders',
    { items, shippingAddress: DEMO_ADDRESS, paymentMethod },
    { 'idempotency-key': key },
  );
}

const stockOf = async (api: ShopApi, productId: string) =>
  (await api.get<StockBody>(`/api/stock/${productId}`)).body;

describe('the shop through its gateway', () => {
  it('signs up, logs in, browses, places an order and sees it shipped', async () => {
    const { api, email } = await t.signup();
    const me = await api.get<{ email: string; role: string }>('/api/users/me');
    expect(me.body).toMatchObject({ email, role: 'customer' });

    const page1 = await t.api.get<{ items: Array<{ id: string; name: string }>; nextCursor: string | null }>(
      '/api/products?limit=5',
    );
    expect(page1.status).toBe(200);
    expect(page1.body.items).toHaveLength(5);
    const page2 = await t.api.get<{ items: Array<{ id: string }> }>(
      `/api/products?limit=5&cursor=${page1.body.nextCursor}`,
    );
    expect(page2.body.items.map((p) => p.id)).not.toContain(page1.body.items[0]?.id);
    const search = await t.api.get<{ items: Array<{ id: string }> }>('/api/products?q=espresso');
    expect(search.body.items.map((p) => p.id)).toEqual(['p-espresso-beans']);

    const before = await stockOf(t.api, 'p-mug');
    const placed = await order(api, [{ productId: 'p-mug', quantity: 2 }]);
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ status: 'shipped', totalCents: 3600 });
    expect(placed.body.trackingNumber).toMatch(/^TRL/);
    const after = await stockOf(t.api, 'p-mug');
    expect(after.available).toBe(before.available - 2);
    expect(after.shipped).toBe(before.shipped + 2);

    const fetched = await api.get<OrderBody>(`/api/orders/${placed.body.id}`);
    expect(fetched.body.status).toBe('shipped');
    // The read model and the notifications follow through the bus.
    await eventually(async () => {
      const list = await api.get<{ items: Array<{ id: string; status: string }> }>('/api/orders');
      return list.body.items.find((o) => o.id === placed.body.id && o.status === 'shipped');
    });
    const notes = await eventually(async () => {
      const res = await api.get<{ items: Array<{ kind: string }> }>(
        `/api/notifications?orderId=${placed.body.id}`,
      );
      return res.body.items.length >= 3 && res.body.items;
    });
    expect(notes.map((n) => n.kind).sort()).toEqual(['OrderPaid', 'OrderShipped', 'OrderSubmitted']);
  });

  it('answers a retried request with the same Idempotency-Key with the same order', async () => {
    const { api } = await t.signup();
    const key = randomUUID();
    const first = await order(api, [{ productId: 'p-filters', quantity: 1 }], 'pm_card_visa', key);
    const again = await order(api, [{ productId: 'p-filters', quantity: 1 }], 'pm_card_visa', key);
    expect(first.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    const admin = await t.login('admin');
    const charges = await admin.get<{ items: unknown[] }>(`/api/admin/charges?orderId=${first.body.id}`);
    expect(charges.body.items).toHaveLength(1);
  });

  it('cancels an order whose card is declined, refunding nothing and releasing its stock', async () => {
    const { api } = await t.signup();
    const before = await stockOf(t.api, 'p-kettle');
    const placed = await order(api, [{ productId: 'p-kettle', quantity: 1 }], 'pm_card_declined');
    expect(placed.status).toBe(201);
    expect(placed.body.status).toBe('cancelled');
    expect(placed.body.cancelReason).toBe('The card was declined');
    const after = await stockOf(t.api, 'p-kettle');
    expect(after).toEqual(before);
  });

  it('rejects an order for more than the stock cleanly: 409, no order, stock untouched', async () => {
    const { api } = await t.signup();
    const before = await stockOf(t.api, 'p-limited-roast');
    const res = await order(api, [{ productId: 'p-limited-roast', quantity: before.available + 1 }]);
    expect(res.status).toBe(409);
    expect(res.body.error?.code).toBe('OUT_OF_STOCK');
    expect(await stockOf(t.api, 'p-limited-roast')).toEqual(before);
    const mine = await api.get<{ items: unknown[] }>('/api/orders');
    expect(mine.body.items).toHaveLength(0);
  });

  it('does not show one customer’s order to another', async () => {
    const a = await t.signup();
    const b = await t.signup();
    const placed = await order(a.api, [{ productId: 'p-filters', quantity: 1 }]);
    const peek = await b.api.get(`/api/orders/${placed.body.id}`);
    expect([403, 404]).toContain(peek.status);
    const list = await b.api.get<{ items: unknown[] }>(`/api/orders?customerId=${a.userId}`);
    expect(list.status).toBe(403);
    const admin = await t.login('admin');
    expect((await admin.get(`/api/orders/${placed.body.id}`)).status).toBe(200);
  });

  it('refuses bad and missing tokens with 401 and customers on admin routes with 403', async () => {
    expect((await t.api.get('/api/orders')).status).toBe(401);
    expect((await t.api.as('not-a-jwt').get('/api/orders')).status).toBe(401);
    const { api } = await t.signup();
    expect((await api.get('/api/admin/processor')).status).toBe(403);
    expect((await api.post('/api/stock/p-mug/restock', { quantity: 5 })).status).toBe(403);
    const login = await t.api.post('/api/auth/login', {
      email: 'alice@example.com',
      password: 'wrong-password',
    });
    expect(login.status).toBe(401);
  });

  it('answers invalid bodies with 400 naming the field, and writes nothing', async () => {
    const { api } = await t.signup();
    const res = await api.post<{ error: { code: string; details: { issues: Array<{ path: string }> } } }>(
      '/api/orders',
      {
        items: [{ productId: 'p-mug', quantity: 0 }],
        shippingAddress: DEMO_ADDRESS,
        paymentMethod: 'pm_card_visa',
      },
    );
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.issues.map((i) => i.path)).toContain('items.0.quantity');
    const noAddress = await api.post<{ error: { details: { issues: Array<{ path: string }> } } }>(
      '/api/orders',
      {
        items: [{ productId: 'p-mug', quantity: 1 }],
        paymentMethod: 'pm_card_visa',
      },
    );
    expect(noAddress.status).toBe(400);
    expect(noAddress.body.error.details.issues.map((i) => i.path)).toContain('shippingAddress');
    const signup = await t.api.post<{ error: { details: { issues: Array<{ path: string }> } } }>(
      '/api/auth/signup',
      {
        email: 'not-an-email',
        password: 'long-enough-password',
        name: 'x',
      },
    );
    expect(signup.status).toBe(400);
    expect(signup.body.error.details.issues.map((i) => i.path)).toContain('email');
    expect((await api.get<{ items: unknown[] }>('/api/orders')).body.items).toHaveLength(0);
  });

  it('limits each client: a burst past its bucket gets 429 with Retry-After', async () => {
    const { api } = await t.signup();
    const answers = await Promise.all(Array.from({ length: 120 }, () => api.get('/api/users/me')));
    const limited = answers.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(Number(limited[0]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(answers.filter((r) => r.status === 200).length).toBeGreaterThan(0);
  });

  it('opens the payment breaker when the processor fails, cancelling orders fast, and recovers', async () => {
    const admin = await t.login('admin');
    const { api } = await t.signup();
    expect((await admin.request('PUT', '/api/admin/processor', { body: { errorRate: 1 } })).status).toBe(200);
    try {
      for (let i = 0; i < 3; i++) {
        const res = await order(api, [{ productId: 'p-filters', quantity: 1 }]);
        expect(res.body.status).toBe('cancelled');
        expect(res.body.cancelReason).toBe('Payments are unavailable right now');
      }
      const state = await eventually(async () => {
        const res = await admin.get<{ breaker: { state: string } }>('/api/admin/processor');
        return res.body.breaker.state === 'OPEN' && res.body.breaker;
      });
      expect(state.state).toBe('OPEN');
    } finally {
      await admin.request('PUT', '/api/admin/processor', { body: { errorRate: 0 } });
    }
    const ok = await eventually(async () => {
      const res = await order(api, [{ productId: 'p-filters', quantity: 1 }]);
      return res.body.status === 'shipped' && res.body;
    }, 30_000);
    expect(ok.status).toBe('shipped');
  });

  it('keeps every invariant across all databases', async () => {
    const report = await checkInvariants({ topology: t.shop.topology, settleMs: 30_000 });
    expect(report.violations, formatInvariantReport(report)).toEqual([]);
    expect(report.counts.orders).toBeGreaterThan(5);
  });

  it('keeps its data across a restart, without seeding the demo data twice', async () => {
    const { api } = await t.signup();
    const token = api.token as string;
    const placed = await order(api, [{ productId: 'p-scale', quantity: 1 }]);
    const stock = await stockOf(t.api, 'p-scale');
    await t.stop({ keepData: true });
    t = await startTestShop({
      dataDir: t.dataDir,
      gatewayEnv: { RATE_LIMIT_CAPACITY: '40', RATE_LIMIT_PER_SECOND: '20' },
    });
    const again = new ShopApi(t.shop.topology.gatewayUrl, token);
    expect((await again.get<OrderBody>(`/api/orders/${placed.body.id}`)).body.status).toBe('shipped');
    expect(await stockOf(t.api, 'p-scale')).toEqual(stock);
    const products = await t.api.get<{ items: unknown[] }>('/api/products?limit=100');
    expect(products.body.items).toHaveLength(12);
    expect((await t.login('alice')).baseUrl).toBe(t.shop.topology.gatewayUrl);
  });
});
