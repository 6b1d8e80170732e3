/**
 * The reloadable part of the gateway: routing table, upstream groups (instances, breakers,
 * pools, health checkers), authenticator, CORS policy and rate-limit store, built from one
 * configuration. A reload builds a new state and swaps it in one assignment; instances whose
 * upstream settings did not change are carried over with their pools, breakers and ejection
 * state, so a reload does not reset what the gateway has learned.
 */
import type { Clock } from '@trellis/core';
import { Authenticator } from './authenticator.js';
import type { GatewayConfig, RateLimitRule, RouteConfig } from './config.js';
import { Cors } from './cors.js';
import type { GatewayMetrics, RouteMetrics } from './gateway-metrics.js';
import { HealthChecker } from './health-checker.js';
import { MemoryRateLimitStore, type RateLimitStore } from './rate-limit-store.js';
import { RedisRateLimitStore } from './redis-rate-limit-store.js';
import { Router } from './router.js';
import { UpstreamGroup, UpstreamInstance } from './upstream.js';

/** What each compiled route carries for the hot path. */
export interface RouteData {
  group: UpstreamGroup;
  rule: RateLimitRule | false;
  bodyLimit: number;
  /** Headers timeout toward the upstream and the deadline sent with the request. */
  timeoutMs: number;
  metrics: RouteMetrics;
  /** Prefix of rate-limit keys, unique per route. */
  keyPrefix: string;
  auth: RouteConfig['auth'];
}

/** One consistent configuration, ready to serve. */
export interface RuntimeState {
  config: GatewayConfig;
  router: Router<RouteData>;
  groups: Map<string, UpstreamGroup>;
  checkers: HealthChecker[];
  authenticator: Authenticator | undefined;
  cors: Cors | undefined;
  store: RateLimitStore;
}

/** Dependencies for building a state. */
export interface BuildOptions {
  clock: Clock;
  metrics: GatewayMetrics;
  random?: () => number;
  /** A store given by the caller replaces the configured one. */
  store?: RateLimitStore;
  onHealthChange?: (upstream: string, instance: string, healthy: boolean) => void;
  onStoreError?: (error: unknown) => void;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Builds a state, reusing what `previous` has when the settings match. */
export function buildState(config: GatewayConfig, o: BuildOptions, previous?: RuntimeState): RuntimeState {
  const groups = new Map<string, UpstreamGroup>();
  for (const [name, u] of Object.entries(config.upstreams)) {
    const old = previous?.groups.get(name);
    const reuse = old && same(old.config, u);
    const instances = u.instances.map(
      (url) =>
        (reuse ? old.instances.find((i) => i.url === url) : undefined) ??
        new UpstreamInstance(name, url, u, o.clock),
    );
    groups.set(name, new UpstreamGroup(name, u, o.clock, instances, { random: o.random }));
  }
  const defaults = config.rateLimit.default;
  const router = new Router<RouteData>(config.routes, (r, index) => {
    const group = groups.get(r.upstream) as UpstreamGroup;
    const name = r.name ?? r.prefix;
    return {
      group,
      rule: r.rateLimit === undefined ? defaults : r.rateLimit,
      bodyLimit: r.bodyLimit ?? config.bodyLimit,
      timeoutMs: r.timeoutMs ?? group.config.timeoutMs,
      metrics: o.metrics.forRoute(name, r.upstream),
      keyPrefix: `${index}|`,
      auth: r.auth,
    };
  });
  const checkers = [...groups.values()]
    .filter((g) => g.config.healthCheck)
    .map((g) => new HealthChecker(g, o.clock, (i, healthy) => o.onHealthChange?.(g.name, i.url, healthy)));
  const authenticator =
    config.auth === undefined
      ? undefined
      : previous?.authenticator && same(previous.config.auth, config.auth)
        ? previous.authenticator
        : new Authenticator(config.auth, { clock: o.clock });
  const store =
    o.store ??
    (previous && same(previous.config.rateLimit, config.rateLimit)
      ? previous.store
      : config.rateLimit.store === 'redis'
        ? new RedisRateLimitStore({
            url: config.rateLimit.redisUrl as string,
            keyPrefix: config.rateLimit.keyPrefix,
            timeoutMs: config.rateLimit.redisTimeoutMs,
            failOpen: config.rateLimit.failOpen,
            onFallback: (error) => {
              o.metrics.rateLimitFallbacks.inc();
              o.onStoreError?.(error);
            },
          })
        : new MemoryRateLimitStore({ clock: o.clock }));
  return {
    config,
    router,
    groups,
    checkers,
    authenticator,
    cors: config.cors ? new Cors(config.cors) : undefined,
    store,
  };
}

/** Releases what `old` has and `next` does not use (closed instances finish in-flight requests first). */
export async function retireState(old: RuntimeState, next: RuntimeState | undefined): Promise<void> {
  for (const c of old.checkers) c.stop();
  const kept = new Set<UpstreamInstance>();
  if (next) for (const g of next.groups.values()) for (const i of g.instances) kept.add(i);
  const closing: Promise<void>[] = [];
  for (const g of old.groups.values()) for (const i of g.instances) if (!kept.has(i)) closing.push(i.close());
  if (!next || next.store !== old.store) closing.push(old.store.close());
  await Promise.all(closing);
}
