/**
 * The hooks every request passes through: ids, trace context, the server span, RED metrics,
 * the access log and in-flight counting for graceful shutdown.
 */
import { performance } from 'node:perf_hooks';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Clock } from '@trellis/core';
import { Deadline } from '@trellis/resilience';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Lifecycle } from './lifecycle.js';
import type { ServiceMetrics } from './metrics.js';
import { CORRELATION_ID_HEADER, REQUEST_ID_HEADER, validId } from './propagation.js';
import type { TrellisRequestState } from './request-state.js';
import { extractContext, type Tracing } from './tracing.js';

/** What the hooks need. */
export interface ObserveOptions {
  tracing: Tracing | undefined;
  metrics: ServiceMetrics | undefined;
  lifecycle: Lifecycle;
  logger: Logger;
  clock: Clock;
  /** Log one line per request at this level (`false` for none). Default `info`. */
  accessLog: 'info' | 'debug' | false;
}

/** Installs the observation hooks. */
export function observeRequests(app: FastifyInstance, o: ObserveOptions): void {
  app.decorateRequest('trellis', null as unknown as TrellisRequestState);

  app.addHook('onRequest', (request, reply, done) => {
    const { lifecycle } = o;
    lifecycle.requestStarted();
    reply.raw.once('close', () => lifecycle.requestFinished());
    if (lifecycle.shuttingDown) reply.header('connection', 'close');
    const headers = request.headers;
    const state: TrellisRequestState = {
      start: performance.now(),
      correlationId: validId(headers[CORRELATION_ID_HEADER]) ?? request.id,
      span: undefined,
      traceContext: undefined,
      identity: undefined,
      identityToken: undefined,
      deadline: undefined,
      idempotencyKey: undefined,
      idempotencyClaim: undefined,
    };
    request.trellis = state;
    reply.header(REQUEST_ID_HEADER, request.id);
    try {
      state.deadline = Deadline.fromHeaders(headers, { clock: o.clock })?.at;
    } catch (error) {
      return done(error as Error);
    }
    if (o.tracing) {
      const parent = extractContext(headers, context.active());
      const route = request.routeOptions.url ?? 'unmatched';
      const span = o.tracing.tracer.startSpan(
        `${request.method} ${route}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': request.method,
            'http.route': route,
            'url.path': request.url.split('?')[0],
            'trellis.request_id': request.id,
            'trellis.correlation_id': state.correlationId,
          },
        },
        parent,
      );
      state.span = span;
      state.traceContext = trace.setSpan(parent, span);
    }
    done();
  });

  // Requests in flight when shutdown starts tell their clients to reconnect elsewhere.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (o.lifecycle.shuttingDown) reply.header('connection', 'close');
    done(null, payload);
  });

  app.addHook('onRequestAbort', (request, done) => {
    const span = request.trellis?.span;
    if (span) {
      span.setAttribute('trellis.aborted', true);
      span.end();
      request.trellis.span = undefined;
    }
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    const state = request.trellis;
    if (!state) return done();
    const status = reply.statusCode;
    const route = request.routeOptions.url ?? 'unmatched';
    const ms = performance.now() - state.start;
    o.metrics?.observeHttp(request.method, route, status, ms / 1000);
    const span = state.span;
    if (span) {
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    if (o.accessLog) {
      const ctx = span?.spanContext();
      o.logger[o.accessLog](
        {
          req_id: request.id,
          correlation_id: state.correlationId,
          trace_id: ctx?.traceId,
          method: request.method,
          route,
          url: request.url,
          status,
          ms: Math.round(ms * 100) / 100,
          caller: state.identity?.subject,
        },
        'request',
      );
    }
    done();
  });
}
