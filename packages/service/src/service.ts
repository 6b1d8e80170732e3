/**
 * `createService`: a Fastify app with the Trellis conventions built in — zod-validated
 * routes, OpenAPI at `/openapi.json`, one error shape, health probes, graceful shutdown,
 * idempotency keys, internal identity, logs with trace ids, traces and Prometheus metrics.
 */
import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from '@trellis/core';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { type ClientOptions, createClient, type TypedClient } from './client.js';
import { type EndpointDefinition, endpoint } from './endpoint.js';
import { toErrorResponse } from './error-response.js';
import { handlerFor } from './handle-route.js';
import { Health, type ReadinessCheck } from './health.js';
import { IDEMPOTENCY_KEYS_CONFIG, type IdempotencyOptions, installIdempotency } from './idempotency.js';
import { MemoryIdempotencyStore } from './idempotency-store.js';
import { type InputCheckOptions, installInputChecks } from './input-checks.js';
import { type InternalAuthOptions, installInternalAuth } from './internal-auth.js';
import { Lifecycle, type ShutdownReport } from './lifecycle.js';
import { createLogger } from './logger.js';
import { ServiceMetrics } from './metrics.js';
import { observeRequests } from './observe-requests.js';
import { buildOpenApi, type OpenApiInfo } from './openapi.js';
import { newRequestId, REQUEST_ID_HEADER, validId } from './propagation.js';
import type { Route } from './route.js';
import type { SpanRecorder } from './span-recorder.js';
import { createTracing, type Tracing } from './tracing.js';

/** Options of {@link createService}. */
export interface ServiceOptions {
  /** Service name: logs, metrics, traces, OpenAPI title. */
  name: string;
  version?: string;
  routes?: readonly Route[];
  /** A pino logger, or options for the default one. Default: JSON to stdout at `info`. */
  logger?: Logger | { level?: string };
  /** Access log level per request (`false` for none). Default `info`. */
  accessLog?: 'info' | 'debug' | false;
  /** A tracing instance, or options for the default (`otlpEndpoint`, `recorder`, `sampleRatio`). */
  tracing?: Tracing | { otlpEndpoint?: string; recorder?: SpanRecorder; sampleRatio?: number } | false;
  /** Metrics instance, or `false` to serve no `/metrics`. Default: a new one. */
  metrics?: ServiceMetrics | false;
  /** Readiness checks by name (more can be added with `addReadinessCheck`). */
  readiness?: Record<string, ReadinessCheck>;
  /** Idempotency-Key handling; default an in-memory store. `false` turns it off. */
  idempotency?: IdempotencyOptions | false;
  /** Internal identity tokens. Default `{ mode: 'off' }` (identity headers still stripped). */
  internalAuth?: InternalAuthOptions;
  /**
   * Refuse (400) params, query and bodies holding NUL characters or lone surrogates, or nested
   * deeper than `maxDepth` (default 32), before schemas and handlers run. Default on; `false`
   * turns it off.
   */
  inputChecks?: InputCheckOptions | false;
  /** Graceful shutdown deadline. Default 10 s. */
  shutdownTimeoutMs?: number;
  /** Body limit in bytes. Default 1 MiB. */
  bodyLimit?: number;
  /** Parse handler results with the response schema. Default true. */
  validateResponses?: boolean;
  /** OpenAPI document info (title defaults to the name), or `false` to serve none. */
  openapi?: Partial<OpenApiInfo> | false;
  clock?: Clock;
  /** Extra Fastify options (timeouts, trust proxy…). */
  fastify?: FastifyServerOptions;
}

/** A running (or ready to run) service. */
export interface Service {
  readonly name: string;
  /** The Fastify instance, for anything the runtime does not cover. */
  readonly app: FastifyInstance;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics | undefined;
  readonly tracing: Tracing | undefined;
  readonly health: Health;
  readonly lifecycle: Lifecycle;
  /** Base URL once listening (`http://127.0.0.1:PORT`). */
  readonly url: string | undefined;
  /** Adds a readiness check (database, bus). Returns its removal function. */
  addReadinessCheck(name: string, check: ReadinessCheck, options?: { timeoutMs?: number }): () => void;
  /** Starts a background loop that shutdown stops (signal) and awaits. */
  runInBackground(name: string, loop: (signal: AbortSignal) => Promise<unknown>): void;
  /** Tracks fire-and-forget work so shutdown waits for it. */
  track<T>(work: Promise<T>): Promise<T>;
  /** Work to run at shutdown after requests and loops stopped (flush the outbox). */
  onFlush(name: string, fn: () => Promise<unknown> | unknown): void;
  /** A resource to close at the end of shutdown (database, bus), in reverse order. */
  onClose(name: string, fn: () => Promise<unknown> | unknown): void;
  /** The OpenAPI document. */
  openapi(): Record<string, unknown>;
  /**
   * A typed client wired to this service: its tracing (client spans), metrics (breaker state),
   * clock, and closed at shutdown.
   */
  createClient<const Eps extends Record<string, EndpointDefinition> = Record<never, never>>(
    options: ClientOptions<Eps>,
  ): TypedClient<Eps>;
  /**
   * Starts listening. With `signals` (default true) SIGTERM and SIGINT run a graceful shutdown
   * and exit the process (code 0, or 1 when the deadline passed).
   */
  listen(options?: { port?: number; host?: string; signals?: boolean }): Promise<string>;
  /** Graceful shutdown (idempotent). */
  shutdown(reason?: string): Promise<ShutdownReport>;
}

const healthEndpoints = {
  live: endpoint({ method: 'GET', path: '/health/live', summary: 'Liveness', tags: ['health'] }),
  ready: endpoint({ method: 'GET', path: '/health/ready', summary: 'Readiness', tags: ['health'] }),
};

/**
 * Creates a service.
 *
 * @example
 * ```ts
 * const service = createService({
 *   name: 'users',
 *   routes: [route(getUser, async ({ params }) => users.get(params.id))],
 *   readiness: { database: () => db.query('SELECT 1') },
 * });
 * service.onClose('database', () => db.close());
 * await service.listen({ port: 3001 });
 * ```
 */
export function createService(options: ServiceOptions): Service {
  const clock = options.clock ?? systemClock;
  const logger =
    options.logger && 'info' in options.logger
      ? (options.logger as Logger)
      : createLogger({
          name: options.name,
          level: (options.logger as { level?: string } | undefined)?.level,
        });
  const tracing =
    options.tracing === false
      ? undefined
      : options.tracing && 'tracer' in options.tracing
        ? options.tracing
        : createTracing({ serviceName: options.name, serviceVersion: options.version, ...options.tracing });
  const metrics =
    options.metrics === false
      ? undefined
      : (options.metrics ?? new ServiceMetrics({ serviceName: options.name }));
  const health = new Health({ clock });
  for (const [name, check] of Object.entries(options.readiness ?? {})) health.add(name, check);
  const lifecycle = new Lifecycle({ clock, timeoutMs: options.shutdownTimeoutMs ?? 10_000 });

  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestIdHeader: false,
    genReqId: (req) => validId(req.headers[REQUEST_ID_HEADER]) ?? newRequestId(),
    return503OnClosing: true,
    // Errors the router raises before any hook (an undecodable path, a too long parameter)
    // answer in the one error shape too, not Fastify's own.
    frameworkErrors: (error, _request, reply) => {
      const r = toErrorResponse(error);
      const raw = reply as unknown as FastifyReply;
      void raw.code(r.status).headers(r.headers).send(r.body);
    },
    ...options.fastify,
  });

  app.setErrorHandler((error, request, reply) => {
    const r = toErrorResponse(error);
    if (r.status >= 500) logger.error({ err: error, req_id: request.id }, 'request failed');
    else logger.debug({ code: r.body.error.code, req_id: request.id }, 'request rejected');
    request.trellis?.span?.recordException(error instanceof Error ? error : String(error));
    return reply.code(r.status).headers(r.headers).send(r.body);
  });
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({
      error: { code: 'ROUTE_NOT_FOUND', message: `No route ${request.method} ${request.url.split('?')[0]}` },
    });
  });

  observeRequests(app, {
    tracing,
    metrics,
    lifecycle,
    logger,
    clock,
    accessLog: options.accessLog ?? 'info',
  });
  const internalAuth = options.internalAuth ?? { mode: 'off' };
  installInternalAuth(app, internalAuth);
  if (options.inputChecks !== false) installInputChecks(app, options.inputChecks);
  if (options.idempotency !== false) {
    installIdempotency(
      app,
      options.name,
      options.idempotency ?? { store: new MemoryIdempotencyStore({ clock }) },
    );
  }

  const routes = options.routes ?? [];
  const handlerOptions = {
    clock,
    logger,
    enforceAuth: internalAuth.mode !== 'off',
    validateResponses: options.validateResponses ?? true,
  };
  for (const r of routes) {
    app.route({
      method: r.endpoint.method,
      url: r.endpoint.path,
      handler: handlerFor(r, handlerOptions),
      ...(r.endpoint.bodyLimit ? { bodyLimit: r.endpoint.bodyLimit } : {}),
      ...(r.endpoint.idempotencyKeys === false ? { config: { [IDEMPOTENCY_KEYS_CONFIG]: false } } : {}),
    });
  }

  app.get(healthEndpoints.live.path, async () => ({ status: 'live' }));
  app.get(healthEndpoints.ready.path, async (_request, reply) => {
    const report = await health.ready();
    if (report.status !== 'ready') reply.code(503).header('retry-after', '1');
    return report;
  });
  if (metrics) {
    app.get('/metrics', async (_request, reply) => {
      reply.type(metrics.contentType);
      return metrics.text();
    });
  }
  let document: Record<string, unknown> | undefined;
  const openapi = () => {
    document ??= buildOpenApi(
      [...routes.map((r) => r.endpoint), healthEndpoints.live, healthEndpoints.ready],
      {
        title: options.name,
        version: options.version ?? '0.0.0',
        ...(options.openapi || {}),
      },
    );
    return document;
  };
  if (options.openapi !== false) app.get('/openapi.json', async () => openapi());

  let url: string | undefined;
  let signalHandler: (() => void) | undefined;
  const shutdown = async (reason = 'shutdown') => {
    const report = await lifecycle.shutdown(
      reason,
      {
        stopAccepting: () => {
          if (app.server.listening) app.server.close();
          app.server.closeIdleConnections();
        },
        forceClose: () => app.server.closeAllConnections(),
        close: () => app.close(),
      },
      () => health.startDraining(),
    );
    if (signalHandler) {
      process.off('SIGTERM', signalHandler);
      process.off('SIGINT', signalHandler);
      signalHandler = undefined;
    }
    await tracing?.shutdown().catch(() => undefined);
    logger.info({ report }, 'service stopped');
    return report;
  };

  return {
    name: options.name,
    app,
    logger,
    metrics,
    tracing,
    health,
    lifecycle,
    get url() {
      return url;
    },
    addReadinessCheck: (name, check, o) => health.add(name, check, o),
    runInBackground: (name, loop) => lifecycle.runInBackground(name, loop),
    track: (work) => lifecycle.track(work),
    onFlush: (name, fn) => lifecycle.onFlush(name, fn),
    onClose: (name, fn) => lifecycle.onClose(name, fn),
    openapi,
    createClient(clientOptions) {
      const client = createClient({ tracing, metrics, clock, ...clientOptions });
      lifecycle.onClose(`client ${clientOptions.name}`, () => client.close());
      return client;
    },
    async listen(o = {}) {
      await app.listen({ port: o.port ?? 0, host: o.host ?? '127.0.0.1' });
      const address = app.server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      url = `http://${host}:${address.port}`;
      if (o.signals !== false) {
        signalHandler = () => {
          void shutdown('signal').then(
            (report) => process.exit(report.timedOut ? 1 : 0),
            () => process.exit(1),
          );
        };
        process.once('SIGTERM', signalHandler);
        process.once('SIGINT', signalHandler);
      }
      logger.info({ url }, 'service listening');
      return url;
    },
    shutdown,
  };
}
