/**
 * A small example tool set over an in-memory order book with two customers. It shows the
 * pattern shop tools follow (a factory taking a typed client; every read and write scoped to
 * `ctx.user`), and it is what the loop and MCP tests run against.
 */
import { ConflictError, NotFoundError } from '@trellis/core';
import { z } from 'zod';
import { defineTool, type Tool } from '../tools/tool.js';

/** An order of the example shop. */
export interface ExampleOrder {
  id: string;
  customerId: string;
  status: 'pending' | 'shipped' | 'delivered' | 'cancelled';
  items: Array<{ sku: string; qty: number }>;
  total: number;
}

/** The example shop's "service": what a typed client of the orders service would offer. */
export class ExampleShop {
  readonly orders = new Map<string, ExampleOrder>();
  readonly stock = new Map<string, number>([
    ['SKU-MUG', 12],
    ['SKU-TEE', 0],
    ['SKU-CAP', 4],
  ]);
  /** Every call the tools made, with the identity they acted for (tests assert on it). */
  readonly calls: Array<{ op: string; actingFor: string; args: unknown }> = [];

  constructor() {
    for (const order of [
      {
        id: 'o-alice-1',
        customerId: 'alice',
        status: 'shipped',
        items: [{ sku: 'SKU-MUG', qty: 2 }],
        total: 24,
      },
      {
        id: 'o-alice-2',
        customerId: 'alice',
        status: 'pending',
        items: [{ sku: 'SKU-CAP', qty: 1 }],
        total: 15,
      },
      { id: 'o-bob-1', customerId: 'bob', status: 'pending', items: [{ sku: 'SKU-TEE', qty: 3 }], total: 60 },
    ] as const) {
      this.orders.set(order.id, { ...order, items: order.items.map((i) => ({ ...i })) });
    }
  }

  search(
    actingFor: string,
    query: { customerId: string; status?: ExampleOrder['status'] | undefined },
  ): ExampleOrder[] {
    this.calls.push({ op: 'search', actingFor, args: query });
    return [...this.orders.values()].filter(
      (o) => o.customerId === query.customerId && (query.status === undefined || o.status === query.status),
    );
  }

  cancel(actingFor: string, orderId: string): ExampleOrder {
    this.calls.push({ op: 'cancel', actingFor, args: { orderId } });
    const order = this.orders.get(orderId);
    if (!order) throw new NotFoundError(`No order ${orderId}`);
    if (order.status !== 'pending')
      throw new ConflictError(`Order ${orderId} is ${order.status} and can no longer be cancelled`);
    order.status = 'cancelled';
    return order;
  }
}

const orderStatus = z.enum(['pending', 'shipped', 'delivered', 'cancelled']);

/**
 * The example tools: `search_orders` (the seed's tool), `get_order`, `stock_lookup` and
 * `cancel_order` (needs approval). Authorization lives in the tools, on `ctx.user`, never in
 * the prompt: another customer's orders are out of reach whatever the model asks.
 */
export function createExampleShopTools(shop: ExampleShop): Tool[] {
  const findOwned = (orderId: string, user: { id: string; can(p: string): boolean }) => {
    const order = shop.orders.get(orderId);
    // "Not found" for someone else's order, so the tool does not even confirm it exists.
    if (!order || (order.customerId !== user.id && !user.can('orders:read:any'))) {
      throw new NotFoundError(`No order ${orderId}`);
    }
    return order;
  };
  return [
    defineTool({
      name: 'search_orders',
      description: "Search orders by customer and status. customerId defaults to the current user's own id.",
      input: z.object({
        customerId: z.string().min(1).optional().describe('Whose orders; defaults to the current user'),
        status: orderStatus.optional().describe('Only orders in this status'),
      }),
      permissions: ['orders:read'],
      execute: ({ customerId, status }, { user }) => {
        const owner = customerId ?? user.id;
        user.requireSelfOr(owner, 'orders:read:any');
        return shop.search(user.id, { customerId: owner, status });
      },
    }),
    defineTool({
      name: 'get_order',
      description: 'Get one order by id (only your own orders).',
      input: z.object({ orderId: z.string().min(1) }),
      permissions: ['orders:read'],
      execute: ({ orderId }, { user }) => findOwned(orderId, user),
    }),
    defineTool({
      name: 'stock_lookup',
      description: 'How many units of a product are in stock.',
      input: z.object({ sku: z.string().regex(/^SKU-[A-Z]+$/, 'a SKU looks like SKU-MUG') }),
      execute: ({ sku }) => ({ sku, available: shop.stock.get(sku) ?? 0 }),
    }),
    defineTool({
      name: 'cancel_order',
      description: 'Cancel one of your pending orders. A human must approve before it happens.',
      input: z.object({ orderId: z.string().min(1), reason: z.string().max(200).optional() }),
      permissions: ['orders:cancel'],
      needsApproval: true,
      describeCall: ({ orderId }) => `Cancel order ${orderId}`,
      execute: ({ orderId }, { user }) => {
        const order = findOwned(orderId, user);
        if (order.customerId !== user.id) throw new NotFoundError(`No order ${orderId}`);
        return shop.cancel(user.id, orderId);
      },
    }),
  ];
}

/** Example identities: two customers with the usual customer permissions. */
export const exampleUsers = {
  alice: { id: 'alice', permissions: ['orders:read', 'orders:cancel'] },
  bob: { id: 'bob', permissions: ['orders:read', 'orders:cancel'] },
} as const;
