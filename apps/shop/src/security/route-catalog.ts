/**
 * Every HTTP route of the shop, enumerated from what defines it rather than listed by hand:
 * each service's zod contract, the ops API every shop service mounts, the console's
 * aggregator routes, and the gateway's route table (`SHOP_ROUTES`), which decides the public
 * path of a service route and who may reach it. The security tests (forged identities at the
 * service ports, fuzzing through the gateway, injection, the authorization matrix) all walk
 * this one catalog, so a route added to a contract is attacked without anyone remembering to.
 *
 * The assistant is the exception the catalog has to spell out: its routes are `@trellis/agent`
 * Node handlers mounted under `/assistant`, not zod endpoint contracts, so they are listed
 * here with the agent's own body and query schemas (see `createAgentRoutes`).
 */
import { OpsAggregator, opsApi } from '@trellis/ops';
import type { EndpointAuth, EndpointDefinition, HttpMethod } from '@trellis/service';
import { z } from 'zod';
import { catalogApi } from '../contracts/catalog.js';
import { inventoryApi } from '../contracts/inventory.js';
import { notificationsApi } from '../contracts/notifications.js';
import { ordersApi } from '../contracts/orders.js';
import { paymentsApi } from '../contracts/payments.js';
import { shippingApi } from '../contracts/shipping.js';
import { usersApi } from '../contracts/users.js';
import { SHOP_ROUTES } from '../gateway/gateway-config.js';
import type { ServiceName } from '../registry.js';

type Endpoints = Readonly<Record<string, EndpointDefinition>>;

/** The agent's chat body (`createAgentRoutes`). */
const chatBody = z.object({
  message: z.string().min(1).max(20_000),
  runId: z.string().min(1).max(128).optional(),
  stream: z.boolean().optional(),
});
/** The agent's approval decisions body. */
const approvalsBody = z.object({
  decisions: z
    .array(
      z.object({
        approvalId: z.string().min(1),
        approve: z.boolean(),
        reason: z.string().max(1000).optional(),
      }),
    )
    .min(1),
  resume: z.boolean().default(true),
  stream: z.boolean().optional(),
});
const runId = z.object({ id: z.string().min(1).max(128) });
const user = 'authenticated' as const;

/** The assistant's routes, as `@trellis/agent` serves them under `/assistant`. */
export const assistantApi = {
  info: { method: 'GET', path: '/assistant', auth: user },
  chat: { method: 'POST', path: '/assistant/chat', body: chatBody, auth: user },
  listRuns: {
    method: 'GET',
    path: '/assistant/runs',
    query: z.object({
      status: z.enum(['running', 'awaiting_approval', 'completed', 'limit_exceeded', 'failed']).optional(),
      limit: z.coerce.number().int().min(1).max(500).optional(),
      before: z.string().min(1).optional(),
    }),
    auth: user,
  },
  getRun: { method: 'GET', path: '/assistant/runs/:id', params: runId, auth: user },
  approve: {
    method: 'POST',
    path: '/assistant/runs/:id/approvals',
    params: runId,
    body: approvalsBody,
    auth: user,
  },
  mcp: {
    method: 'POST',
    path: '/assistant/mcp',
    // A tool call, the route's substance (`tools/list` ignores whatever params it is given, so
    // a schema for both would call requests invalid that MCP rightly answers).
    body: z.object({
      jsonrpc: z.literal('2.0'),
      // Without an id a message is a notification (JSON-RPC 2.0 §4.1): accepted with 202, no answer.
      id: z.union([z.string(), z.number().int()]).optional(),
      method: z.literal('tools/call'),
      params: z.object({ name: z.string(), arguments: z.record(z.string(), z.unknown()).optional() }),
    }),
    auth: user,
  },
} as const satisfies Endpoints;

/** Each service's own contract (the ops API comes on top, for every service). */
export const SERVICE_CONTRACTS: Readonly<Record<ServiceName, Endpoints>> = {
  users: usersApi,
  catalog: catalogApi,
  inventory: inventoryApi,
  orders: ordersApi,
  payments: paymentsApi,
  shipping: shippingApi,
  notifications: notificationsApi,
  assistant: assistantApi,
};

/** One route a shop service serves on its own port. */
export interface ServiceRoute {
  service: ServiceName;
  /** `users.signup`, `orders.ops.sagas`… */
  name: string;
  method: HttpMethod;
  path: string;
  endpoint: EndpointDefinition;
  auth: EndpointAuth;
  source: 'contract' | 'ops';
}

/** Every route every shop service serves (besides health, metrics and its OpenAPI document). */
export function serviceRoutes(): ServiceRoute[] {
  const out: ServiceRoute[] = [];
  for (const [service, contract] of Object.entries(SERVICE_CONTRACTS) as [ServiceName, Endpoints][]) {
    const add = (name: string, e: EndpointDefinition, source: ServiceRoute['source']) =>
      out.push({
        service,
        name,
        method: e.method,
        path: e.path,
        endpoint: e,
        auth: e.auth ?? 'public',
        source,
      });
    for (const [name, e] of Object.entries(contract)) add(`${service}.${name}`, e, 'contract');
    for (const [name, e] of Object.entries(opsApi)) add(`${service}.ops.${name}`, e, 'ops');
  }
  return out;
}

/** Paths every service serves without a token, by design (probes, scrapes, the API document). */
export const OPEN_SERVICE_PATHS = ['/health/live', '/health/ready', '/metrics', '/openapi.json'] as const;

/** The console's routes (the ops aggregator, hosted by the gateway process). */
export function consoleEndpoints(): EndpointDefinition[] {
  const aggregator = new OpsAggregator({ targets: [], identity: async () => '' });
  return aggregator.routes().map((r) => r.endpoint);
}

/** How the gateway lets a route through. */
export type GatewayAuth = (typeof SHOP_ROUTES)[number]['auth'];

/** A route reachable through the gateway. */
export interface PublicRoute {
  /** `POST /api/orders` */
  key: string;
  method: HttpMethod;
  /** Fastify-style public path: `/api/orders/:id`. */
  path: string;
  /** The service behind it (`console` for the ops API). */
  upstream: string;
  servicePath: string;
  endpoint: EndpointDefinition;
  /** The gateway's own check before forwarding. */
  gatewayAuth: GatewayAuth;
  /** The service's check after it. */
  serviceAuth: EndpointAuth;
  gatewayRoute: string;
}

function segmentPrefix(prefix: string, path: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** The gateway route that owns `method path` (longest prefix first, as the gateway matches). */
export function gatewayRouteFor(method: string, path: string): (typeof SHOP_ROUTES)[number] | undefined {
  const owners = SHOP_ROUTES.filter((r) => segmentPrefix(r.prefix, path)).sort(
    (a, b) => b.prefix.length - a.prefix.length,
  );
  const longest = owners[0]?.prefix;
  return owners.find(
    (r) =>
      r.prefix === longest &&
      (!r.methods || r.methods.includes(method) || (method === 'HEAD' && r.methods.includes('GET'))),
  );
}

/**
 * The public face of a service route: the gateway route whose rewrite covers its path and
 * method, checked forwards (the gateway, matching the public path, picks that same route).
 * Undefined for internal routes the gateway does not expose.
 */
export function publicRouteOf(upstream: string, e: EndpointDefinition): PublicRoute | undefined {
  for (const r of SHOP_ROUTES) {
    if (r.upstream !== upstream || !segmentPrefix(r.rewrite, e.path)) continue;
    const path = r.prefix + e.path.slice(r.rewrite.length);
    const owner = gatewayRouteFor(e.method, path.replace(/:[^/]+/g, 'x'));
    if (owner !== r) continue;
    return {
      key: `${e.method} ${path}`,
      method: e.method,
      path,
      upstream,
      servicePath: e.path,
      endpoint: e,
      gatewayAuth: r.auth,
      serviceAuth: e.auth ?? 'public',
      gatewayRoute: r.name,
    };
  }
  return undefined;
}

/** Every route reachable through the gateway, from the contracts, the console and the assistant. */
export function publicRoutes(): PublicRoute[] {
  const out: PublicRoute[] = [];
  for (const [service, contract] of Object.entries(SERVICE_CONTRACTS)) {
    for (const e of Object.values(contract)) {
      const p = publicRouteOf(service, e);
      if (p) out.push(p);
    }
  }
  for (const e of consoleEndpoints()) {
    const p = publicRouteOf('console', e);
    if (p) out.push(p);
  }
  return out;
}

/** Service routes the gateway does not expose (service-to-service only, and every instance's ops API). */
export function internalRoutes(): ServiceRoute[] {
  return serviceRoutes().filter((r) => !publicRouteOf(r.service, r.endpoint));
}
