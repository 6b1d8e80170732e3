/**
 * The shop's gateway configuration: every public path under `/api`, which service serves it,
 * who may call it, and the limits. One function of the topology, so the supervisor, the tests
 * and the README all describe the same routes.
 */
import type { GatewayConfigInput, RouteConfig } from '@trellis/gateway';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../services/users/user-tokens.js';

/** What the gateway configuration is built from. */
export interface ShopGatewaySettings {
  /** Instance URLs per service (the assistant's slot included). */
  upstreams: Record<string, readonly string[]>;
  jwtSecret: string;
  internalTokenSecret: string;
  /** Per-client token bucket: burst and sustained rate. */
  rateLimit: { capacity: number; refillPerSecond: number };
  /** Shared limits across gateway instances. Default: in memory. */
  redisUrl?: string | undefined;
}

const admin = { roles: ['admin'] };
const reads = ['GET', 'HEAD'] as const;
const writes = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * The public API: `[prefix, service, path upstream, auth, methods?]`. Services own finer
 * checks (an order belongs to its customer; admin-only writes); the gateway refuses what is
 * plainly not allowed before it reaches them.
 */
export const SHOP_ROUTES: ReadonlyArray<{
  prefix: string;
  upstream: string;
  rewrite: string;
  auth: RouteConfig['auth'];
  methods?: readonly string[];
  name: string;
}> = [
  {
    name: 'auth',
    prefix: '/api/auth',
    upstream: 'users',
    rewrite: '/auth',
    auth: 'public',
    methods: ['POST'],
  },
  { name: 'users', prefix: '/api/users', upstream: 'users', rewrite: '/users', auth: 'required' },
  {
    name: 'products',
    prefix: '/api/products',
    upstream: 'catalog',
    rewrite: '/products',
    auth: 'public',
    methods: reads,
  },
  {
    name: 'products-admin',
    prefix: '/api/products',
    upstream: 'catalog',
    rewrite: '/products',
    auth: admin,
    methods: writes,
  },
  {
    name: 'categories',
    prefix: '/api/categories',
    upstream: 'catalog',
    rewrite: '/categories',
    auth: 'public',
    methods: reads,
  },
  {
    name: 'stock',
    prefix: '/api/stock',
    upstream: 'inventory',
    rewrite: '/stock',
    auth: 'public',
    methods: reads,
  },
  {
    name: 'stock-admin',
    prefix: '/api/stock',
    upstream: 'inventory',
    rewrite: '/stock',
    auth: admin,
    methods: writes,
  },
  { name: 'orders', prefix: '/api/orders', upstream: 'orders', rewrite: '/orders', auth: 'required' },
  {
    name: 'payment-methods',
    prefix: '/api/payment-methods',
    upstream: 'payments',
    rewrite: '/payment-methods',
    auth: 'required',
  },
  {
    name: 'notifications',
    prefix: '/api/notifications',
    upstream: 'notifications',
    rewrite: '/notifications',
    auth: 'required',
    methods: reads,
  },
  {
    name: 'admin-processor',
    prefix: '/api/admin/processor',
    upstream: 'payments',
    rewrite: '/admin/processor',
    auth: admin,
  },
  {
    name: 'admin-charges',
    prefix: '/api/admin/charges',
    upstream: 'payments',
    rewrite: '/charges',
    auth: admin,
    methods: reads,
  },
  {
    name: 'admin-shipments',
    prefix: '/api/admin/shipments',
    upstream: 'shipping',
    rewrite: '/shipments',
    auth: admin,
    methods: reads,
  },
  // The ops console (served by the gateway process itself): the app, and its API for admins.
  {
    name: 'console',
    prefix: '/console',
    upstream: 'console',
    rewrite: '/console',
    auth: 'public',
    methods: reads,
  },
  { name: 'ops', prefix: '/api/ops', upstream: 'console', rewrite: '/ops', auth: admin },
  // The assistant (@trellis/agent; chat, runs, approvals, MCP): /api/assistant/* → assistant /assistant/*.
  {
    name: 'assistant',
    prefix: '/api/assistant',
    upstream: 'assistant',
    rewrite: '/assistant',
    auth: 'required',
  },
];

/** Every assistant request may cost model calls (money): a smaller budget per user. */
export const ASSISTANT_RATE_LIMIT = { capacity: 60, refillPerSecond: 1, by: 'client' as const };

/** Per-service request timeouts: placing an order waits for its saga (up to ORDER_WAIT_MS). */
const TIMEOUTS: Record<string, number> = { orders: 30_000, assistant: 120_000 };

/**
 * Builds the gateway configuration.
 *
 * @example
 * ```ts
 * const gateway = createGateway({ config: shopGatewayConfig(settings) });
 * await gateway.listen({ port: 8080 });
 * ```
 */
export function shopGatewayConfig(s: ShopGatewaySettings): GatewayConfigInput {
  const upstreams: GatewayConfigInput['upstreams'] = {};
  for (const [name, instances] of Object.entries(s.upstreams)) {
    if (instances.length === 0) continue;
    upstreams[name] = {
      instances: [...instances],
      balancer: 'p2c',
      timeoutMs: TIMEOUTS[name] ?? 10_000,
      // A restarted process must get traffic again within seconds, not after half a minute.
      breaker: { failureThreshold: 5, openMs: 2000, halfOpenMaxProbes: 2 },
      outlier: { consecutiveFailures: 5, baseEjectionMs: 2000, maxEjectionMs: 10_000, maxEjectedPercent: 50 },
      // A loaded instance answers its probe late, not never: give it time before calling it
      // unhealthy (with one instance, unhealthy means every request fails).
      healthCheck: {
        path: '/health/ready',
        intervalMs: 1000,
        timeoutMs: 3000,
        healthyThreshold: 1,
        unhealthyThreshold: 3,
        unejectOnHealthy: true,
      },
    };
  }
  const routes = SHOP_ROUTES.filter((r) => upstreams[r.upstream]).map((r) => ({
    name: r.name,
    prefix: r.prefix,
    upstream: r.upstream,
    rewritePrefix: r.rewrite,
    auth: r.auth,
    ...(r.methods ? { methods: [...r.methods] as RouteConfig['methods'] } : {}),
    // Log-in and sign-up are limited per IP (password guessing), everything else per user.
    ...(r.name === 'auth' ? { rateLimit: { capacity: 20, refillPerSecond: 5, by: 'ip' as const } } : {}),
    ...(r.name === 'assistant' ? { rateLimit: ASSISTANT_RATE_LIMIT } : {}),
  }));
  return {
    upstreams,
    routes,
    auth: {
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      hs256Secret: s.jwtSecret,
      rolesClaim: 'roles',
    },
    rateLimit: {
      store: s.redisUrl ? 'redis' : 'memory',
      ...(s.redisUrl ? { redisUrl: s.redisUrl } : {}),
      default: { capacity: s.rateLimit.capacity, refillPerSecond: s.rateLimit.refillPerSecond, by: 'client' },
    },
    identity: { internalTokenSecret: s.internalTokenSecret, plainHeaders: true },
    bodyLimit: 256 * 1024,
  } as GatewayConfigInput;
}
