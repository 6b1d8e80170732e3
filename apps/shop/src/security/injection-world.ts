/**
 * What the injection test aims at in a running shop: a customer and an admin, a product to
 * edit, an order to read and cancel, and for every public route a request with nothing wrong
 * in it (the base the payloads are placed into). Bases are written so that, without a payload,
 * each write would be accepted where the shop allows it: the payload is then the only reason
 * for a refusal, and an accepted payload really reaches the handler and its SQL. Requests that
 * create something are made unique (`n`) so repeats are not refused as duplicates.
 */
import { randomBytes } from 'node:crypto';
import { DEMO_ADDRESS } from '../demo-data.js';
import { eventually, type TestShop } from '../e2e/test-shop.js';
import type { ShopApi } from '../load/shop-api.js';
import { userJwt } from './forged-identities.js';
import type { BaseRequest } from './injection-requests.js';
import { send } from './raw-http.js';
import type { PublicRoute } from './route-catalog.js';

/** The shop as the injection test sees it. */
export interface InjectionWorld {
  gateway: string;
  tokens: { customer: string; admin: string };
  /**
   * Genuine tokens of many users of each role, for the assistant's routes: the gateway limits
   * each user there to 60 requests and then 1 a second, which would turn most payloads into
   * 429s that test nothing.
   */
  assistantTokens: { customer: string[]; admin: string[] };
  customer: { id: string; email: string; password: string };
  productId: string;
  orderId: string;
  /** The dead letter parked on purpose (replayed before the invariants are checked). */
  deadLetterId: string;
  /** The base request of `route`; `n` makes creations unique. */
  base(route: PublicRoute, n: number): BaseRequest;
  /** MCP tools with their string arguments, from the assistant's own `tools/list`. */
  tools: Array<{ name: string; args: Record<string, unknown>; strings: string[] }>;
}

/** Arguments that make each tool call well-formed (a payload then replaces one string in them). */
const TOOL_ARGS = (orderId: string): Record<string, Record<string, unknown>> => ({
  search_orders: { query: 'mug' },
  get_order: { orderId },
  search_products: { query: 'mug', category: 'equipment' },
  stock_lookup: { productIds: ['p-mug'] },
  cancel_order: { orderId, reason: 'changed my mind' },
});

/** Prepares the world: users, a product, an order, the tools. */
export async function prepareInjectionWorld(t: TestShop): Promise<InjectionWorld> {
  const suffix = randomBytes(4).toString('hex');
  const admin = await t.login('admin');
  const email = `injection-${suffix}@example.test`;
  const password = randomBytes(12).toString('base64url');
  const { token, userId } = await t.api.signup(email, password, 'Injection Customer');
  const customer = t.api.as(token);
  const productId = `inj-target-${suffix}`;
  const product = await admin.request('POST', '/api/products', {
    body: {
      id: productId,
      sku: `INJ-TARGET-${suffix}`,
      name: 'Injection target',
      category: 'equipment',
      priceCents: 100,
    },
  });
  if (product.status !== 201) throw new Error(`setup product failed: ${product.status}`);
  const order = await customer.request<{ id: string }>('POST', '/api/orders', {
    body: {
      items: [{ productId: 'p-mug', quantity: 1 }],
      shippingAddress: DEMO_ADDRESS,
      paymentMethod: 'pm_card_visa',
    },
  });
  if (order.status !== 201 && order.status !== 202) throw new Error(`setup order failed: ${order.status}`);
  const deadLetterId = await seedDeadLetter(admin, customer);
  const gateway = t.shop.topology.gatewayUrl;
  const listed = await send(gateway, {
    method: 'POST',
    path: '/api/assistant/mcp',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  const toolList = (listed.json as { result?: { tools?: ToolSpec[] } } | undefined)?.result?.tools ?? [];
  if (toolList.length === 0)
    throw new Error(`MCP tools/list gave no tools: ${listed.status} ${listed.text.slice(0, 200)}`);
  const args = TOOL_ARGS(order.body.id);
  const tools = toolList.map((tool) => ({
    name: tool.name,
    args: args[tool.name] ?? {},
    strings: Object.entries(tool.inputSchema?.properties ?? {}).flatMap(([k, s]) =>
      s.type === 'string' ? [k] : s.type === 'array' && s.items?.type === 'string' ? [`${k}.0`] : [],
    ),
  }));
  const bodies = bodyBases(email, password, suffix);
  const params = paramBases({ customerId: userId, productId, orderId: order.body.id, deadLetterId });
  return {
    gateway,
    tokens: { customer: token, admin: admin.token ?? '' },
    assistantTokens: {
      customer: await mint(t, 'customer', suffix),
      admin: await mint(t, 'admin', suffix),
    },
    customer: { id: userId, email, password },
    productId,
    orderId: order.body.id,
    deadLetterId,
    tools,
    base: (route, n) => ({
      params: params[route.key] ?? {
        id: 'no-such-thing',
        productId: 'p-mug',
        name: 'orders',
        group: 'no-such-group',
        traceId: '0'.repeat(32),
      },
      query: [],
      ...(route.endpoint.body ? { body: bodies[route.key]?.(n) ?? {} } : {}),
    }),
  };
}

/**
 * Parks one event in the notifications group's dead letters (a poison fault armed for one
 * message through the console, an order placed, the fault lifted): with a dead letter there,
 * a purge or replay filter that an injection widened would have something to destroy, and
 * the snapshot would show it gone.
 */
async function seedDeadLetter(admin: ShopApi, customer: ShopApi): Promise<string> {
  const faults = await admin.request<{ items: Array<{ groups: string[] }> }>('GET', '/api/ops/faults');
  const group = faults.body.items.flatMap((i) => i.groups).find((g) => g.includes('notification'));
  if (!group) throw new Error(`no notifications consumer group to poison: ${JSON.stringify(faults.body)}`);
  const path = `/api/ops/faults/${encodeURIComponent(group)}`;
  const armed = await admin.request('PUT', path, { body: { mode: 'poison', remaining: 1 } });
  if (armed.status !== 200) throw new Error(`arming the fault failed: ${armed.status}`);
  try {
    await customer.request('POST', '/api/orders', {
      body: {
        items: [{ productId: 'p-mug', quantity: 1 }],
        shippingAddress: DEMO_ADDRESS,
        paymentMethod: 'pm_card_visa',
      },
    });
    return await eventually(async () => {
      const page = await admin.request<{ items: Array<{ id: string }> }>('GET', '/api/ops/dead-letters');
      return page.body.items[0]?.id;
    }, 60_000);
  } finally {
    await admin.request('DELETE', path);
  }
}

function mint(t: TestShop, role: 'customer' | 'admin', suffix: string): Promise<string[]> {
  return Promise.all(
    Array.from({ length: 40 }, (_, i) => userJwt(t.shop.secrets, `injection-${role}-${suffix}-${i}`, role)),
  );
}

interface ToolSpec {
  name: string;
  inputSchema?: { properties?: Record<string, { type?: string; items?: { type?: string } }> };
}

function paramBases(o: {
  customerId: string;
  productId: string;
  orderId: string;
  deadLetterId: string;
}): Record<string, Record<string, string>> {
  return {
    'GET /api/users/:id': { id: o.customerId },
    'GET /api/products/:id': { id: o.productId },
    'PATCH /api/products/:id': { id: o.productId },
    'GET /api/stock/:productId': { productId: 'p-mug' },
    'POST /api/stock/:productId/restock': { productId: o.productId },
    'GET /api/orders/:id': { id: o.orderId },
    'POST /api/orders/:id/cancel': { id: o.orderId },
    'GET /api/orders/:id/events': { id: o.orderId },
    'GET /api/ops/streams/:id': { id: `order-${o.orderId}` },
    'GET /api/ops/dead-letters/:id': { id: o.deadLetterId },
    'GET /api/ops/read-models/:name/:id': { name: 'orders', id: o.orderId },
  };
}

function bodyBases(email: string, password: string, suffix: string): Record<string, (n: number) => unknown> {
  return {
    'POST /api/auth/signup': (n) => ({
      email: `inj-${suffix}-${n}@example.test`,
      password,
      name: 'Injection Test',
    }),
    'POST /api/auth/login': () => ({ email, password }),
    'PATCH /api/users/me': () => ({ name: 'Injection Customer', address: DEMO_ADDRESS }),
    'POST /api/products/lookup': () => ({ ids: ['p-mug'] }),
    'POST /api/products': (n) => ({
      id: `inj-${suffix}-${n}`,
      sku: `INJ-${suffix}-${n}`,
      name: 'Injected product',
      description: 'plain',
      category: 'equipment',
      priceCents: 100,
    }),
    'PATCH /api/products/:id': () => ({
      name: 'Injection target',
      description: 'plain',
      category: 'equipment',
    }),
    'POST /api/stock/:productId/restock': () => ({ quantity: 1 }),
    'POST /api/orders': () => ({
      items: [{ productId: 'p-mug', quantity: 1 }],
      shippingAddress: { ...DEMO_ADDRESS, line2: 'Floor 2' },
      paymentMethod: 'pm_card_visa',
    }),
    'POST /api/orders/:id/cancel': () => ({ reason: 'changed my mind' }),
    'POST /api/payment-methods': () => ({
      card: { number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' },
    }),
    'PUT /api/admin/processor': () => ({ latencyMs: 0 }),
    'POST /api/assistant/chat': () => ({ message: 'hello' }),
    'POST /api/assistant/runs/:id/approvals': () => ({
      decisions: [{ approvalId: 'no-such-approval', approve: false, reason: 'no' }],
      resume: false,
    }),
    'POST /api/assistant/mcp': () => ({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    'POST /api/ops/sagas/:id/resume': () => ({ note: 'resumed' }),
    'POST /api/ops/dead-letters/replay': () => ({ topic: 'no-such-topic' }),
    'POST /api/ops/dead-letters/purge': () => ({ topic: 'no-such-topic' }),
    'PUT /api/ops/faults/:group': () => ({ mode: 'poison', remaining: 1 }),
  };
}
