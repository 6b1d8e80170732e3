/**
 * `createGateway`: the API gateway on Fastify. Per request: check the path, route by prefix
 * and method, answer CORS preflights, authenticate (cached JWT or API key), authorise scopes
 * and roles, rate-limit per client and route, buffer the body within its limit, then proxy to
 * a balanced, healthy instance through its breaker, retrying when safe under a budget, with
 * identity, request id, trace context and deadline headers set and forgeable ones stripped.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Clock, systemClock } from '@trellis/core';
import {
  createLogger,
  InternalTokenSigner,
  Lifecycle,
  ServiceMetrics,
  type ShutdownReport,
  type SpanRecorder,
  validId,
} from '@trellis/service';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createAdminApp } from './admin.js';
import { authenticateRequest } from './authorize.js';
import type { GatewayConfig, GatewayConfigInput } from './config.js';
import { parseGatewayConfig, watchGatewayConfigFile } from './config-file.js';
import { writeError, writeJson } from './error-reply.js';
import { InvalidPathError, MethodNotAllowedError, RouteNotFoundError } from './errors.js';
import { Exchange, type ExchangeHost } from './exchange.js';
import { createGatewayApp } from './gateway-app.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { logProxied, logRefused, recordGatewaySpan } from './gateway-telemetry.js';
import { internalTokenFor } from './internal-identity.js';
import { checkPath } from './path.js';
import { type RateLimitDecision, type RateLimitStore, resetSeconds } from './rate-limit-store.js';
import { hasBody, readBody } from './request-body.js';
import type { CompiledRoute } from './router.js';
import { upstreamPath } from './router.js';
import { buildState, type RouteData, type RuntimeState, retireState } from './runtime-state.js';
import type { UpstreamGroup, UpstreamInstance } from './upstream.js';
import { parentSpanOf, upstreamHeaders } from './upstream-headers.js';

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** The configuration (checked; throws `ValidationError` naming bad fields). */
  config: GatewayConfigInput;
  clock?: Clock;
  /** A pino logger, or the level for the default one. */
  logger?: Logger | { level?: string };
  metrics?: ServiceMetrics;
  /** Records one span per request here (the gateway hop of each trace). */
  recorder?: SpanRecorder;
  /** Replaces the configured rate-limit store (tests, custom backends). */
  rateLimitStore?: RateLimitStore;
  /** Randomness for P2C balancing (tests). */
  random?: () => number;
  /** Deadline of {@link Gateway.close}. Default 10 s. */
  shutdownTimeoutMs?: number;
}

/** A running gateway. */
export interface Gateway {
  readonly app: FastifyInstance;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
  /** The active configuration. */
  readonly config: GatewayConfig;
  readonly url: string | undefined;
  /** Starts listening; `adminPort` also serves `/metrics`, `/upstreams` and health on a separate port. */
  listen(options?: { port?: number; host?: string; adminPort?: number }): Promise<string>;
  /** URL of the admin listener, when started. */
  readonly adminUrl: string | undefined;
  /** Swaps in a new configuration atomically (throws `ValidationError` and keeps the old one when invalid). */
  reload(config: GatewayConfigInput): Promise<void>;
  /** Reloads whenever the JSON file changes; returns the stop function. */
  watchConfigFile(path: string): () => void;
  /** Upstream and instance status (health, ejection, breaker, outstanding). */
  upstreams(): Record<string, ReturnType<UpstreamInstance['status']>[]>;
  /** Runs every active health check once, now. */
  checkHealthNow(): Promise<void>;
  /** Graceful stop: no new connections, in-flight requests finish, then pools and stores close. */
  close(): Promise<ShutdownReport>;
}

/** Per-request values the error path needs. */
interface Early {
  res: ServerResponse;
  requestId: string;
  extraHeaders: Record<string, string> | undefined;
  status: number;
}

/**
 * Creates a gateway.
 *
 * @example
 * ```ts
 * const gateway = createGateway({
 *   config: {
 *     upstreams: { orders: { instances: ['http://127.0.0.1:3001', 'http://127.0.0.1:3002'] } },
 *     routes: [{ prefix: '/api/orders', upstream: 'orders', auth: { scopes: ['orders'] } }],
 *     auth: { issuer: 'https://id.example', audience: 'shop', jwksUrl: 'https://id.example/jwks' },
 *     rateLimit: { default: { capacity: 100, refillPerSecond: 50 } },
 *   },
 * });
 * await gateway.listen({ port: 8080 });
 * ```
 */
export function createGateway(options: GatewayOptions): Gateway {
  return new GatewayImpl(options);
}

class GatewayImpl implements Gateway, ExchangeHost {
  readonly app: FastifyInstance;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
  private state: RuntimeState;
  private readonly gm: GatewayMetrics;
  private readonly clock: Clock;
  private readonly lifecycle: Lifecycle;
  private readonly signer: InternalTokenSigner | undefined;
  private admin: FastifyInstance | undefined;
  private listenUrl: string | undefined;
  private adminListenUrl: string | undefined;
  private readonly recorder: SpanRecorder | undefined;
  private readonly o: GatewayOptions;
  private lastStoreErrorLog = 0;

  constructor(options: GatewayOptions) {
    this.o = options;
    const config = parseGatewayConfig(options.config);
    this.clock = options.clock ?? systemClock;
    this.recorder = options.recorder;
    this.logger =
      options.logger && 'info' in options.logger
        ? (options.logger as Logger)
        : createLogger({ name: 'gateway', level: (options.logger as { level?: string } | undefined)?.level });
    this.metrics = options.metrics ?? new ServiceMetrics({ serviceName: 'gateway' });
    this.gm = new GatewayMetrics(
      this.metrics,
      () => this.state.groups.values(),
      () => this.clock.now(),
    );
    this.lifecycle = new Lifecycle({ clock: this.clock, timeoutMs: options.shutdownTimeoutMs ?? 10_000 });
    const id = config.identity;
    this.signer = id.internalTokenSecret
      ? new InternalTokenSigner({
          key: id.internalTokenSecret,
          ttlSeconds: id.ttlSeconds,
          audience: id.audience,
          issuer: id.issuer,
          clock: this.clock,
        })
      : undefined;
    this.state = this.build(config);
    this.app = createGatewayApp(
      config,
      () => this.lifecycle.shuttingDown,
      (req, res, ip, proto) => {
        this.lifecycle.requestStarted();
        void this.handle(req, res, ip, proto);
      },
    );
  }

  get config(): GatewayConfig {
    return this.state.config;
  }

  get url(): string | undefined {
    return this.listenUrl;
  }

  get adminUrl(): string | undefined {
    return this.adminListenUrl;
  }

  private build(config: GatewayConfig, previous?: RuntimeState): RuntimeState {
    const state = buildState(
      config,
      {
        clock: this.clock,
        metrics: this.gm,
        random: this.o.random,
        store: this.o.rateLimitStore,
        onStoreError: (error) => {
          // One line per second at most: a Redis outage must not flood the logs.
          const now = Date.now();
          if (now - this.lastStoreErrorLog < 1000) return;
          this.lastStoreErrorLog = now;
          this.logger.warn({ err: error }, 'rate-limit store failed; deciding locally');
        },
        onHealthChange: (upstream, instance, healthy) =>
          this.logger.warn(
            { upstream, instance, healthy },
            healthy ? 'instance healthy' : 'instance unhealthy',
          ),
      },
      previous,
    );
    for (const g of state.groups.values()) for (const i of g.instances) this.metrics.trackBreaker(i.breaker);
    return state;
  }

  // The hot path ------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse, ip: string, proto: string): Promise<void> {
    const start = performance.now();
    const state = this.state;
    const headers = req.headers;
    const early: Early = {
      res,
      requestId: validId(headers['x-request-id']) ?? randomUUID(),
      extraHeaders: undefined,
      status: 0,
    };
    let route: CompiledRoute<RouteData> | undefined;
    try {
      const checked = checkPath(req.url ?? '');
      if (!checked) throw new InvalidPathError();
      const method = req.method ?? 'GET';
      const m = state.router.match(method, checked.path);
      const origin = headers.origin;
      if (state.cors && origin !== undefined) {
        if (method === 'OPTIONS' && headers['access-control-request-method'] !== undefined) {
          const p = state.cors.preflight(origin, headers['access-control-request-method']);
          res.writeHead(p.status, p.headers);
          res.end();
          early.status = p.status;
          this.done(early, start, undefined);
          return;
        }
        early.extraHeaders = state.cors.actual(origin);
      }
      if (m.kind === 'none') throw new RouteNotFoundError(checked.path);
      if (m.kind === 'method') throw new MethodNotAllowedError(method, m.allow);
      route = m.route;
      const data = route.data;
      // Every step below is synchronous when its answer is cached (token, bucket, internal
      // token): the common request never waits for a microtask before it is dispatched.
      const pendingAuth = authenticateRequest(state.authenticator, headers, data.auth);
      const auth = pendingAuth instanceof Promise ? await pendingAuth : pendingAuth;
      if (data.rule) {
        const key = data.keyPrefix + (data.rule.by === 'ip' || !auth ? ip : auth.clientKey);
        const taken = state.store.take(key, data.rule);
        const d = (taken instanceof Promise ? await taken : taken) as RateLimitDecision;
        early.extraHeaders ??= {};
        const extra = early.extraHeaders;
        extra['ratelimit-limit'] = String(d.limit);
        extra['ratelimit-remaining'] = String(d.remaining);
        extra['ratelimit-reset'] = String(resetSeconds(d, data.rule));
        if (!d.allowed) {
          this.gm.rateLimited.inc({ route: route.name });
          extra['retry-after'] = String(Math.max(1, Math.ceil(d.retryAfterMs / 1000)));
          const error = {
            error: {
              code: 'RATE_LIMITED',
              message: 'Rate limit exceeded',
              details: { retryAfterMs: d.retryAfterMs },
            },
          };
          early.status = 429;
          writeJson(res, 429, error, { ...extra, 'x-request-id': early.requestId });
          this.done(early, start, route);
          return;
        }
      }
      const body = hasBody(req) ? await readBody(req, data.bodyLimit) : null;
      const out = upstreamHeaders(req, state.config, {
        requestId: early.requestId,
        ip,
        proto,
        auth,
        body,
        timeoutMs: data.timeoutMs,
      });
      const pendingToken = this.signer
        ? internalTokenFor(this.signer, auth, this.clock, state.config.identity.ttlSeconds)
        : undefined;
      const identityToken = pendingToken instanceof Promise ? await pendingToken : pendingToken;
      if (identityToken) out.push('x-trellis-identity', identityToken);
      if (early.extraHeaders) early.extraHeaders['x-request-id'] = early.requestId;
      else early.extraHeaders = { 'x-request-id': early.requestId };
      const ex = new Exchange(
        this,
        res,
        data.group,
        data.metrics,
        route.name,
        early.requestId,
        method,
        upstreamPath(route, checked.path) + checked.query,
        out,
        body,
        data.timeoutMs,
        headers['idempotency-key'] !== undefined,
        start,
      );
      ex.extraHeaders = early.extraHeaders;
      ex.traceparent = out[out.indexOf('traceparent') + 1] as string;
      ex.parentSpanId = parentSpanOf(headers.traceparent);
      ex.clientKey = auth?.clientKey ?? ip;
      data.group.budget.recordCall();
      ex.run();
    } catch (error) {
      this.sendError(early, error);
      this.done(early, start, route);
    }
  }

  // ExchangeHost ------------------------------------------------------------------------------

  now(): number {
    return this.clock.now();
  }

  sendError(target: Early | Exchange, error: unknown): void {
    const { status, code } = writeError(target.res, error, target.requestId, target.extraHeaders);
    target.status = status;
    this.gm.refused.inc({ code });
    if (status === 401) {
      this.gm.authFailures.inc({
        reason: (error as { details?: { reason?: string } }).details?.reason ?? 'invalid',
      });
    }
    if (status >= 500 && !(error as { code?: string }).code)
      this.logger.error({ err: error }, 'gateway error');
  }

  finished(ex: Exchange): void {
    this.lifecycle.requestFinished();
    if (this.state.config.accessLog) logProxied(this.logger, ex);
    if (this.recorder) recordGatewaySpan(this.recorder, ex);
  }

  private done(early: Early, start: number, route: CompiledRoute<RouteData> | undefined): void {
    this.lifecycle.requestFinished();
    const status = early.status || early.res.statusCode;
    route?.data.metrics.byClass[(status / 100) | 0]?.inc();
    if (this.state.config.accessLog) logRefused(this.logger, early.requestId, route?.name, status, start);
  }

  retried(group: UpstreamGroup): void {
    this.gm.retries.inc({ upstream: group.name });
  }

  ejected(group: UpstreamGroup, instance: UpstreamInstance): void {
    this.gm.ejections.inc({ upstream: group.name, instance: instance.url });
    this.logger.warn(
      { upstream: group.name, instance: instance.url, ejections: instance.ejections },
      'instance ejected',
    );
  }

  // Control -----------------------------------------------------------------------------------

  async listen(options: { port?: number; host?: string; adminPort?: number } = {}): Promise<string> {
    const host = options.host ?? '127.0.0.1';
    await this.storeReady(this.state.store);
    await this.app.listen({ port: options.port ?? 0, host });
    this.listenUrl = urlOf(this.app, host);
    for (const c of this.state.checkers) c.start();
    if (options.adminPort !== undefined) {
      this.admin = createAdminApp({
        metrics: this.metrics,
        upstreams: () => this.upstreams(),
        draining: () => this.lifecycle.shuttingDown,
      });
      await this.admin.listen({ port: options.adminPort, host });
      this.adminListenUrl = urlOf(this.admin, host);
    }
    this.logger.info({ url: this.listenUrl, admin: this.adminListenUrl }, 'gateway listening');
    return this.listenUrl;
  }

  /** Waits (bounded) for a shared store to connect; a store that stays down is handled by its fallback. */
  private async storeReady(store: RateLimitStore): Promise<void> {
    if (!store.ready) return;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 2_000);
    });
    try {
      await Promise.race([
        store
          .ready()
          .catch((error: unknown) => this.logger.warn({ err: error }, 'rate-limit store not ready')),
        limit,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async reload(input: GatewayConfigInput): Promise<void> {
    const config = parseGatewayConfig(input);
    const old = this.state;
    const next = this.build(config, old);
    if (next.store !== old.store) await this.storeReady(next.store);
    this.state = next;
    if (this.listenUrl) for (const c of next.checkers) c.start();
    await retireState(old, next);
    this.logger.info(
      { routes: config.routes.length, upstreams: Object.keys(config.upstreams) },
      'gateway config reloaded',
    );
  }

  watchConfigFile(path: string): () => void {
    return watchGatewayConfigFile(
      path,
      (config) => this.reload(config),
      (error) => this.logger.error({ err: error }, 'gateway config rejected; keeping the running one'),
    );
  }

  upstreams(): Record<string, ReturnType<UpstreamInstance['status']>[]> {
    const now = this.clock.now();
    const out: Record<string, ReturnType<UpstreamInstance['status']>[]> = {};
    for (const g of this.state.groups.values()) out[g.name] = g.instances.map((i) => i.status(now));
    return out;
  }

  async checkHealthNow(): Promise<void> {
    await Promise.all(this.state.checkers.map((c) => c.checkNow()));
  }

  close(): Promise<ShutdownReport> {
    return this.lifecycle.shutdown('close', {
      stopAccepting: () => {
        for (const c of this.state.checkers) c.stop();
        if (this.app.server.listening) this.app.server.close();
        this.app.server.closeIdleConnections();
      },
      forceClose: () => this.app.server.closeAllConnections(),
      close: async () => {
        await this.app.close();
        await this.admin?.close();
        await retireState(this.state, undefined);
      },
    });
  }
}

function urlOf(app: FastifyInstance, host: string): string {
  const address = app.server.address() as AddressInfo;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
