/**
 * The assistant's tools: the seed's `search_orders`, plus `get_order` (an order's status),
 * `search_products`, `stock_lookup` and `cancel_order` (which needs the user's approval). Every
 * call goes to the real shop services with the user's own credentials (`ctx.headers()`), so
 * the services decide what the user may see or change; the tools never widen or second-guess
 * that. Arguments use the services' own schemas (ids, statuses), so what the model is shown is
 * exactly what the shop accepts.
 */
import { defineTool, type Tool, type ToolContext } from '@trellis/agent';
import { uuidv7 } from '@trellis/core';
import { z } from 'zod';
import { id } from '../../contracts/common.js';
import { type Order, OrderStatus } from '../../contracts/orders.js';
import { SHOP_PERMISSIONS } from './assistant-identity.js';
import { shopCall } from './shop-call.js';
import type { ShopToolClients } from './shop-clients.js';

/** The tool names, for prompts, docs and tests. */
export const SHOP_TOOL_NAMES = [
  'search_orders',
  'get_order',
  'search_products',
  'stock_lookup',
  'cancel_order',
] as const;

const euros = (cents: number) => `€${(cents / 100).toFixed(2)}`;

/** Options of {@link createShopTools}. */
export interface ShopToolOptions {
  /**
   * Credential headers for every call, when they can change during the process's life (the
   * MCP stdio process renews its bearer token). Default: none beyond the user's own
   * credentials, which `ctx.headers()` forwards.
   */
  credentials?: () => Promise<Record<string, string>>;
}

/** What the model sees of an order. */
function orderView(o: Order) {
  return {
    id: o.id,
    customerId: o.customerId,
    status: o.status,
    total: euros(o.totalCents),
    items: o.items.map((i) => ({
      productId: i.productId,
      name: i.name,
      quantity: i.quantity,
      unitPrice: euros(i.unitPriceCents),
    })),
    trackingNumber: o.trackingNumber,
    cancelReason: o.cancelReason,
    cancelRequestedAt: o.cancelRequestedAt ?? null,
    placedAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
}

/**
 * Builds the shop tools over `clients` (direct to the services inside the shop, or through the
 * gateway from an MCP stdio process: the tools are the same).
 *
 * @example
 * ```ts
 * const agent = new Agent({ model, tools: createShopTools(serviceClients(service, upstream)) });
 * ```
 */
export function createShopTools(clients: ShopToolClients, options: ShopToolOptions = {}): Tool[] {
  /** Headers (the user's credentials, the tool span's trace context) and the abort signal. */
  const via = async (ctx: ToolContext) => ({
    headers: { ...ctx.headers(), ...(await options.credentials?.()) },
    signal: ctx.signal,
  });
  return [
    defineTool({
      name: 'search_orders',
      description:
        "Search orders, newest first, by status and/or text (a product name or an order id). Without customerId it searches the current user's own orders; only shop staff may name another customer.",
      input: z.object({
        customerId: id.optional().describe("Whose orders; default: the current user's own"),
        status: OrderStatus.optional().describe('Only orders in this state'),
        query: z.string().trim().min(1).max(100).optional().describe('Text in a product name or order id'),
        limit: z.number().int().min(1).max(50).default(10).describe('At most this many orders'),
      }),
      permissions: [SHOP_PERMISSIONS.readOrders],
      execute: async ({ customerId, status, query, limit }, ctx) => {
        const page = await shopCall('orders', async () =>
          clients.orders.listOrders({ query: { customerId, status, q: query, limit } }, await via(ctx)),
        );
        return {
          orders: page.items.map((o) => ({
            id: o.id,
            customerId: o.customerId,
            status: o.status,
            total: euros(o.totalCents),
            itemCount: o.itemCount,
            products: o.productNames,
            trackingNumber: o.trackingNumber,
            cancelReason: o.cancelReason,
            placedAt: o.createdAt,
          })),
          more: page.nextCursor !== null,
        };
      },
    }),
    defineTool({
      name: 'get_order',
      description:
        'The current status and details of one order: items, total, tracking number, cancellation.',
      input: z.object({ orderId: id.describe('The order id, e.g. from search_orders') }),
      permissions: [SHOP_PERMISSIONS.readOrders],
      execute: async ({ orderId }, ctx) =>
        orderView(
          await shopCall('orders', async () =>
            clients.orders.getOrder({ params: { id: orderId } }, await via(ctx)),
          ),
        ),
    }),
    defineTool({
      name: 'search_products',
      description: 'Search the catalog by words in the product name, category and price. Prices in euros.',
      input: z.object({
        query: z.string().trim().min(1).max(100).optional().describe('Words in the product name'),
        category: z
          .string()
          .regex(/^[a-z0-9-]{1,50}$/)
          .optional()
          .describe('A category, e.g. coffee or equipment'),
        maxPriceCents: z.number().int().min(0).optional().describe('Highest price, in euro cents'),
        limit: z.number().int().min(1).max(25).default(10).describe('At most this many products'),
      }),
      execute: async ({ query, category, maxPriceCents, limit }, ctx) => {
        const page = await shopCall('catalog', async () =>
          clients.catalog.listProducts(
            { query: { q: query, category, maxPrice: maxPriceCents, limit } },
            await via(ctx),
          ),
        );
        return {
          products: page.items.map((p) => ({
            id: p.id,
            sku: p.sku,
            name: p.name,
            description: p.description,
            category: p.category,
            price: euros(p.priceCents),
          })),
          more: page.nextCursor !== null,
        };
      },
    }),
    defineTool({
      name: 'stock_lookup',
      description: 'How many units of some products are available to order right now.',
      input: z.object({
        productIds: z.array(id).min(1).max(20).describe('Product ids, e.g. from search_products'),
      }),
      execute: async ({ productIds }, ctx) => {
        const { items } = await shopCall('inventory', async () =>
          clients.inventory.listStock({ query: { ids: productIds.join(',') } }, await via(ctx)),
        );
        const known = new Set(items.map((s) => s.productId));
        return {
          stock: items.map((s) => ({
            productId: s.productId,
            available: s.available,
            inStock: s.available > 0,
          })),
          unknownProductIds: productIds.filter((p) => !known.has(p)),
        };
      },
    }),
    defineTool({
      name: 'cancel_order',
      description:
        "Cancel one of the user's orders that has not shipped yet: payment refunded, stock released. The user must approve before it happens; call it once, with their reason if they gave one.",
      input: z.object({
        orderId: id.describe('The order to cancel'),
        reason: z.string().trim().max(200).optional().describe("The user's reason, in their words"),
      }),
      permissions: [SHOP_PERMISSIONS.cancelOrders],
      needsApproval: true,
      describeCall: ({ orderId, reason }) => `Cancel order ${orderId}${reason ? ` (“${reason}”)` : ''}`,
      // The orders service waits for the order's saga to wind back (ORDER_WAIT_MS) before answering.
      timeoutMs: 30_000,
      execute: async ({ orderId, reason }, ctx) => {
        const order = await shopCall('orders', async () =>
          clients.orders.cancelOrder(
            { params: { id: orderId }, body: reason ? { reason } : {} },
            { ...(await via(ctx)), idempotencyKey: `assistant-${uuidv7()}`, timeoutMs: 25_000 },
          ),
        );
        const cancelled = order.status === 'cancelled';
        return {
          outcome: cancelled ? 'cancelled' : 'cancellation_requested',
          note: cancelled
            ? 'The order is cancelled; any payment is refunded.'
            : 'The cancellation is recorded; the order is being wound back (refund, stock released) and will show as cancelled shortly.',
          order: orderView(order),
        };
      },
    }),
  ];
}
