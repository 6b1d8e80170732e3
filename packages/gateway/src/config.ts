/**
 * The gateway's configuration: a typed object checked by a zod schema (from code or a JSON
 * file). Defaults are chosen to be safe: routes need authentication unless marked public,
 * bodies are limited, slow clients are cut off, retries are budgeted.
 */
import { z } from 'zod';

const method = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const positiveInt = z.number().int().positive();

/** A token-bucket limit: `capacity` requests at once, `refillPerSecond` sustained. */
export const rateLimitRuleSchema = z.object({
  capacity: z.number().positive(),
  refillPerSecond: z.number().positive(),
  /** Whose bucket: the authenticated client (falling back to the IP), or always the IP. */
  by: z.enum(['client', 'ip']).default('client'),
});

const upstreamSchema = z.object({
  /** Base URLs of the instances (`http://10.0.0.5:3001`). */
  instances: z.array(z.url()).min(1),
  balancer: z.enum(['round-robin', 'least-outstanding', 'p2c']).default('p2c'),
  /** Keep-alive connections per instance. */
  connections: positiveInt.default(64),
  /** Time allowed for the upstream's response headers. */
  timeoutMs: positiveInt.default(10_000),
  /** Statuses that count as the instance failing (breaker, outlier ejection, retries). */
  failureStatuses: z.array(z.number().int().min(500).max(599)).default([502, 503, 504]),
  retry: z
    .object({
      /** Attempts in total, the first one included. */
      attempts: positiveInt.default(2),
      /** Retries allowed as a share of requests (Envoy-style retry budget). */
      budgetRatio: z.number().gt(0).max(1).default(0.2),
      /** Retries always allowed per second, whatever the traffic. */
      minRetriesPerSecond: z.number().min(0).default(5),
    })
    .prefault({}),
  breaker: z
    .object({
      failureThreshold: positiveInt.default(5),
      /** Milliseconds OPEN before probing. */
      openMs: positiveInt.default(10_000),
      halfOpenMaxProbes: positiveInt.default(1),
    })
    .prefault({}),
  healthCheck: z
    .object({
      path: z.string().startsWith('/').default('/health/ready'),
      intervalMs: positiveInt.default(5_000),
      timeoutMs: positiveInt.default(1_000),
      healthyThreshold: positiveInt.default(2),
      unhealthyThreshold: positiveInt.default(2),
      /** A passing active check also lifts a passive ejection. */
      unejectOnHealthy: z.boolean().default(false),
    })
    .optional(),
  outlier: z
    .object({
      /** Consecutive failures that eject an instance. */
      consecutiveFailures: positiveInt.default(5),
      /** First ejection time; doubles with each ejection in a row. */
      baseEjectionMs: positiveInt.default(30_000),
      maxEjectionMs: positiveInt.default(300_000),
      /** At most this share of instances is ejected at once (at least one may be). */
      maxEjectedPercent: z.number().min(0).max(100).default(50),
    })
    .prefault({}),
});

const routeSchema = z.object({
  /** Name in metrics and logs; defaults to the prefix. */
  name: z.string().min(1).optional(),
  /** Path prefix, matched on whole segments (`/api/orders` matches `/api/orders/1`, not `/api/ordersx`). */
  prefix: z.string().startsWith('/'),
  /** Methods routed; default all. */
  methods: z.array(method).optional(),
  upstream: z.string().min(1),
  /** Replaces the prefix before forwarding (`''` strips it). Default: forward the path unchanged. */
  rewritePrefix: z.string().optional(),
  /** `public`, `required` (any valid identity), or required scopes/roles. */
  auth: z
    .union([
      z.literal('public'),
      z.literal('required'),
      z.object({ scopes: z.array(z.string()).optional(), roles: z.array(z.string()).optional() }),
    ])
    .default('required'),
  /** This route's limit, `false` for none; default the gateway's default limit. */
  rateLimit: z.union([z.literal(false), rateLimitRuleSchema]).optional(),
  bodyLimit: positiveInt.optional(),
  /** End-to-end time budget of a request on this route (sent on as the deadline header). */
  timeoutMs: positiveInt.optional(),
});

const authSchema = z.object({
  /** Accepted `iss` values. */
  issuer: z.union([z.string(), z.array(z.string())]),
  /** Accepted `aud` values. */
  audience: z.union([z.string(), z.array(z.string())]),
  /** HS256 secret (local use); HS256 tokens are refused when absent. */
  hs256Secret: z.string().min(32, 'must be at least 32 characters').optional(),
  /** JWKS endpoint for RS256/ES256/PS256/EdDSA tokens. */
  jwksUrl: z.url().optional(),
  /** Static public keys (PEM, SPKI) for asymmetric tokens. */
  publicKeys: z
    .array(
      z.object({
        kid: z.string().optional(),
        alg: z.enum(['RS256', 'ES256', 'PS256', 'EdDSA']),
        pem: z.string(),
      }),
    )
    .optional(),
  clockToleranceSeconds: z.number().min(0).max(300).default(5),
  /** Verified tokens kept (until their `exp`). */
  cacheSize: positiveInt.default(10_000),
  /** API keys, stored as SHA-256 hex of the key. */
  apiKeys: z
    .array(
      z.object({
        id: z.string().regex(/^[\x21-\x7e]+$/),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        scopes: z.array(z.string()).default([]),
        roles: z.array(z.string()).default([]),
      }),
    )
    .default([]),
  rolesClaim: z.string().default('roles'),
});

const corsSchema = z.object({
  /** Allowed origins (`*` for any, not allowed with credentials). */
  origins: z.array(z.string()).min(1),
  credentials: z.boolean().default(false),
  methods: z.array(method).default(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
  allowHeaders: z
    .array(z.string())
    .default(['authorization', 'content-type', 'idempotency-key', 'x-request-id']),
  exposeHeaders: z
    .array(z.string())
    .default(['x-request-id', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset']),
  maxAgeSeconds: z.number().int().min(0).default(600),
});

/** The full gateway configuration. */
export const gatewayConfigSchema = z
  .object({
    upstreams: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/), upstreamSchema),
    routes: z.array(routeSchema).min(1),
    auth: authSchema.optional(),
    rateLimit: z
      .object({
        store: z.enum(['memory', 'redis']).default('memory'),
        redisUrl: z.url().optional(),
        /** The limit of routes that do not set their own; `false` for none. */
        default: z.union([z.literal(false), rateLimitRuleSchema]).default(false),
        /** Allow requests (limited per instance) when Redis fails, instead of refusing them. */
        failOpen: z.boolean().default(true),
        /** Redis command timeout before falling back. */
        redisTimeoutMs: positiveInt.default(50),
        keyPrefix: z.string().default('trellis:rl:'),
      })
      .prefault({}),
    cors: corsSchema.optional(),
    /** Trust `X-Forwarded-*` from these proxies (`true` for any, or addresses/CIDRs). */
    trustProxy: z.union([z.boolean(), z.array(z.string())]).default(false),
    bodyLimit: positiveInt.default(1024 * 1024),
    /** Whole request (headers and body) must arrive within this (slow clients get 408). */
    requestTimeoutMs: positiveInt.default(30_000),
    /** Headers must arrive within this (slowloris). */
    headersTimeoutMs: positiveInt.default(10_000),
    keepAliveTimeoutMs: positiveInt.default(72_000),
    /** Internal identity token for upstreams (see @trellis/service internal auth). */
    identity: z
      .object({
        internalTokenSecret: z.string().min(32, 'must be at least 32 characters').optional(),
        ttlSeconds: positiveInt.default(60),
        audience: z.string().default('trellis-internal'),
        issuer: z.string().default('trellis-gateway'),
        /** Also send plain `X-User-*` headers (informational; services must not trust them). */
        plainHeaders: z.boolean().default(true),
        /** Forward the client's `Authorization` header upstream. */
        forwardAuthorization: z.boolean().default(false),
      })
      .prefault({}),
    accessLog: z.boolean().default(true),
  })
  .superRefine((c, ctx) => {
    c.routes.forEach((r, i) => {
      if (!c.upstreams[r.upstream]) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'upstream'],
          message: `unknown upstream "${r.upstream}"`,
        });
      }
      if (r.auth !== 'public' && !c.auth) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'auth'],
          message: 'needs the auth section (or auth: "public")',
        });
      }
    });
    if (c.rateLimit.store === 'redis' && !c.rateLimit.redisUrl) {
      ctx.addIssue({
        code: 'custom',
        path: ['rateLimit', 'redisUrl'],
        message: 'required when store is "redis"',
      });
    }
    if (c.cors?.credentials && c.cors.origins.includes('*')) {
      ctx.addIssue({
        code: 'custom',
        path: ['cors', 'origins'],
        message: '"*" cannot be used with credentials',
      });
    }
  });

/** Configuration as written (defaults optional). */
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
/** Configuration after defaults. */
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
/** One upstream after defaults. */
export type UpstreamConfig = GatewayConfig['upstreams'][string];
/** One route after defaults. */
export type RouteConfig = GatewayConfig['routes'][number];
/** A token-bucket limit after defaults. */
export type RateLimitRule = z.output<typeof rateLimitRuleSchema>;
/** The authentication section after defaults. */
export type AuthConfig = NonNullable<GatewayConfig['auth']>;
/** The CORS section after defaults. */
export type CorsConfig = NonNullable<GatewayConfig['cors']>;
