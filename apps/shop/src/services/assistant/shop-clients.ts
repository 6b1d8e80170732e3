/**
 * The typed clients the assistant's tools call the shop with, built from the services' own
 * contracts. Two ways to reach the shop, one set of tools:
 *
 * - **inside the shop** (the assistant service): straight to the services, each call carrying
 *   the user's internal identity token, which the services verify like any other request;
 * - **from outside** (the MCP stdio process on a user's machine): through the gateway's public
 *   API (`/api` + the same paths), with the user's own bearer token.
 *
 * Neither kind ever carries a service identity: a tool call that lost the user's credentials
 * is refused by the shop (401), never run with more rights than the user has.
 */
import { createClient, type EndpointDefinition, type Service, type TypedClient } from '@trellis/service';
import { catalogApi } from '../../contracts/catalog.js';
import { inventoryApi } from '../../contracts/inventory.js';
import { ordersApi } from '../../contracts/orders.js';
import { type UpstreamClientOptions, upstreamClient } from '../../platform/clients.js';

/** The endpoints the tools use, per service. */
export const toolEndpoints = {
  orders: {
    listOrders: ordersApi.listOrders,
    getOrder: ordersApi.getOrder,
    cancelOrder: ordersApi.cancelOrder,
  },
  catalog: { listProducts: catalogApi.listProducts, getProduct: catalogApi.getProduct },
  inventory: { listStock: inventoryApi.listStock },
} as const;

/** Clients of the services the tools call. */
export interface ShopToolClients {
  orders: TypedClient<typeof toolEndpoints.orders>;
  catalog: TypedClient<typeof toolEndpoints.catalog>;
  inventory: TypedClient<typeof toolEndpoints.inventory>;
}

/**
 * Per-call bounds. Cancelling waits for the order's saga (up to the orders service's
 * `ORDER_WAIT_MS`, 10 s by default), so it gets more time than reads.
 */
const clientOptions: UpstreamClientOptions = { timeoutMs: 8000, retry: { maxAttempts: 2 } };

/**
 * Clients calling the services directly, for the assistant service (any number of instances
 * per service, balanced and failed over as every shop client is).
 *
 * @example
 * ```ts
 * const clients = serviceClients(service, (name) => ctx.upstream(name));
 * ```
 */
export function serviceClients(
  service: Pick<Service, 'createClient'>,
  upstream: (name: 'orders' | 'catalog' | 'inventory') => readonly string[],
): ShopToolClients {
  return {
    orders: upstreamClient(service, 'orders', upstream('orders'), toolEndpoints.orders, clientOptions),
    catalog: upstreamClient(service, 'catalog', upstream('catalog'), toolEndpoints.catalog, clientOptions),
    inventory: upstreamClient(
      service,
      'inventory',
      upstream('inventory'),
      toolEndpoints.inventory,
      clientOptions,
    ),
  };
}

/**
 * Clients calling the shop's public API through its gateway (`<gatewayUrl>/api/orders`…): the
 * gateway authenticates the bearer token each tool passes and routes to the services.
 *
 * @example
 * ```ts
 * const clients = gatewayClients('http://127.0.0.1:8080');
 * ```
 */
export function gatewayClients(gatewayUrl: string): ShopToolClients {
  const baseUrl = `${gatewayUrl.replace(/\/+$/, '')}/api`;
  const client = <const E extends Record<string, EndpointDefinition>>(name: string, endpoints: E) =>
    createClient({ ...clientOptions, name: `shop-${name}`, baseUrl, endpoints, connections: 4 });
  return {
    orders: client('orders', toolEndpoints.orders),
    catalog: client('catalog', toolEndpoints.catalog),
    inventory: client('inventory', toolEndpoints.inventory),
  };
}

/** Closes the clients' connection pools. */
export async function closeClients(clients: ShopToolClients): Promise<void> {
  await Promise.allSettled([clients.orders.close(), clients.catalog.close(), clients.inventory.close()]);
}
