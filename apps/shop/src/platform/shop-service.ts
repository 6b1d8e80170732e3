/**
 * What every shop service shares: its configuration, its own backend, the bus (opened on first
 * use), its service identity, the addresses of its upstreams, and `createShopService`, which
 * builds a `@trellis/service` app with the shop's conventions — internal identity tokens
 * required, idempotency keys stored in the service's own database, readiness on database and
 * bus, and everything closed in order at shutdown.
 */
import { createHmac } from 'node:crypto';
import { type Clock, systemClock } from '@trellis/core';
import type { BusObserver } from '@trellis/messaging';
import { OpsApi } from '@trellis/ops';
import {
  busMetricsObserver,
  createLogger,
  createService,
  type EndpointDefinition,
  InternalTokenVerifier,
  MemoryIdempotencyStore,
  type Route,
  type Service,
  ServiceMetrics,
  type ServiceOptions,
  type TypedClient,
} from '@trellis/service';
import type { Logger } from 'pino';
import type { ServiceName } from '../registry.js';
import { type Backend, type BackendLocation, openBackend, sqliteFileOf } from './backend.js';
import { type BusLocation, busFileOf, openBus, type ShopBus } from './bus.js';
import { type UpstreamClientOptions, upstreamClient } from './clients.js';
import { ServiceIdentity } from './identity.js';
import type { ShopConfig } from './shop-config.js';
import { skewedClock } from './skewed-clock.js';

/** Everything a shop service is built from. */
export interface ShopContext {
  readonly name: ServiceName;
  readonly config: ShopConfig;
  readonly backend: Backend;
  readonly logger: Logger;
  readonly identity: ServiceIdentity;
  readonly metrics: ServiceMetrics;
  /** Bus and outbox metrics for this service's Prometheus registry. */
  readonly busObserver: BusObserver;
  /** The ops API of this instance (console: breakers, sagas, dead letters, spans, faults). */
  readonly ops: OpsApi;
  readonly clock: Clock;
  /** The bus, opened on first call (services without events never open it). */
  bus(): Promise<ShopBus>;
  /** Instance URLs of another service; throws when none is configured. */
  upstream(name: ServiceName): string[];
  /** Releases the backend and the bus (when the service was never built). */
  close(): Promise<void>;
}

/** Where `config` says this service's database is. */
export function backendLocation(config: ShopConfig, name: ServiceName): BackendLocation {
  if (config.SHOP_MODE === 'embedded') return { kind: 'sqlite', file: sqliteFileOf(config.DATA_DIR, name) };
  if (!config.DATABASE_URL) throw new Error(`DATABASE_URL is required for ${name} in distributed mode`);
  return {
    kind: 'postgres',
    url: config.DATABASE_URL,
    applicationName: `shop-${name}`,
    queryTimeoutMs: config.PG_QUERY_TIMEOUT_MS,
    connectTimeoutMs: config.PG_CONNECT_TIMEOUT_MS,
  };
}

/** Where `config` says the bus is. */
export function busLocation(config: ShopConfig): BusLocation {
  if (config.SHOP_MODE === 'embedded') return { kind: 'sqlite', file: busFileOf(config.DATA_DIR) };
  if (!config.NATS_URL) throw new Error('NATS_URL is required in distributed mode');
  return { kind: 'nats', url: config.NATS_URL, namespace: config.SHOP_BUS_NAMESPACE };
}

/**
 * Opens a service's backend and prepares its context.
 *
 * @example
 * ```ts
 * const ctx = await createShopContext('orders', loadConfig(shopConfigSchema));
 * const service = await buildOrders(ctx);
 * await service.listen({ port: ctx.config.PORT });
 * ```
 */
export async function createShopContext(
  name: ServiceName,
  config: ShopConfig,
  options: { clock?: Clock; logger?: Logger } = {},
): Promise<ShopContext> {
  const logger = options.logger ?? createLogger({ name, level: config.LOG_LEVEL });
  const clock = options.clock ?? skewedClock(config.SHOP_CLOCK_OFFSET_MS);
  const backend = await openBackend(backendLocation(config, name));
  // The console's view of this instance: breakers join its board as they join the metrics.
  const ops = new OpsApi({
    service: name,
    instance: config.SHOP_REPLICA ? `${name}#${config.SHOP_REPLICA}` : name,
    version: '0.1.0',
    ...(clock !== systemClock ? { clock } : {}),
  });
  const metrics = ops.board.watch(new ServiceMetrics({ serviceName: name }));
  const observer: BusObserver = busMetricsObserver(metrics);
  let bus: Promise<ShopBus> | undefined;
  return {
    name,
    config,
    backend,
    logger,
    metrics,
    busObserver: observer,
    ops,
    clock,
    identity: new ServiceIdentity(name, config.INTERNAL_TOKEN_SECRET, logger, clock),
    bus() {
      bus ??= openBus(busLocation(config), backend, name, observer);
      return bus;
    },
    upstream(upstream) {
      const urls = config.SHOP_UPSTREAMS[upstream];
      if (!urls?.length) throw new Error(`No instances of "${upstream}" in SHOP_UPSTREAMS`);
      return urls;
    },
    async close() {
      if (bus) await (await bus).bus.close();
      await backend.close();
    },
  };
}

/**
 * Builds the service app: internal identity tokens required (only `/health`, `/metrics` and
 * `/openapi.json` are open), `Idempotency-Key` responses stored in the service's own database,
 * readiness checks on the database (and the bus when it was opened), and at shutdown the
 * bus and database closed after requests and background loops have stopped.
 */
export async function createShopService(
  ctx: ShopContext,
  routes: readonly Route[],
  options: Partial<ServiceOptions> & {
    /**
     * Where `Idempotency-Key` responses are kept: `sql` (default) in the service's database,
     * durable and shared by replicas; `memory` for services whose keyed endpoints are already
     * idempotent in their own tables (a replay then recomputes the same answer), which saves
     * two commits per call on the saga's critical path.
     */
    idempotencyStore?: 'sql' | 'memory';
  } = {},
): Promise<Service> {
  const { idempotencyStore = 'sql', ...serviceOptions } = options;
  const store =
    idempotencyStore === 'sql'
      ? await ctx.backend.idempotencyStore()
      : new MemoryIdempotencyStore({ clock: ctx.clock });
  const service = createService({
    name: ctx.name,
    version: '0.1.0',
    routes: [...routes, ...ctx.ops.routes()],
    logger: ctx.logger,
    tracing: { recorder: ctx.ops.recorder },
    metrics: ctx.metrics,
    clock: ctx.clock,
    internalAuth: {
      mode: 'required',
      verifier: new InternalTokenVerifier({ key: ctx.config.INTERNAL_TOKEN_SECRET, clock: ctx.clock }),
    },
    // A claim left by a request that died frees up soon after the longest request could run.
    // Fingerprints are keyed by the installation's secret: a stored one reveals nothing about
    // the body it was made from (a password, a card number) to whoever reads the database.
    idempotency: {
      store,
      lockMs: Math.max(15_000, ctx.config.ORDER_WAIT_MS + 5000),
      fingerprintKey: fingerprintKeyOf(ctx.config.INTERNAL_TOKEN_SECRET),
    },
    shutdownTimeoutMs: ctx.config.SHUTDOWN_TIMEOUT_MS,
    // Health probes arrive every second from the gateway: access lines only at debug level.
    accessLog: ctx.config.ACCESS_LOG,
    ...serviceOptions,
  });
  ctx.ops.attach(service);
  service.addReadinessCheck('database', () => ctx.backend.ping());
  // Registered first, so it runs last: the database outlives every other close hook.
  service.onClose('database', () => ctx.close());
  return service;
}

/** The idempotency fingerprint key, derived from (never equal to) the internal token secret. */
export function fingerprintKeyOf(internalTokenSecret: string): Buffer {
  return createHmac('sha256', internalTokenSecret).update('trellis idempotency fingerprint v1').digest();
}

/** A typed client of another shop service, as this service (see {@link upstreamClient}). */
export function shopClient<const Eps extends Record<string, EndpointDefinition>>(
  ctx: ShopContext,
  service: Service,
  upstream: ServiceName,
  endpoints: Eps,
  options: UpstreamClientOptions = {},
): TypedClient<Eps> {
  return upstreamClient(service, upstream, ctx.upstream(upstream), endpoints, {
    serviceIdentity: () => ctx.identity.token(),
    ...options,
  });
}
