/**
 * What the gateway says about each request: one access-log line, and (with a span recorder)
 * the gateway hop as a span whose id is the parent id the upstream received.
 */
import { performance } from 'node:perf_hooks';
import type { SpanRecorder } from '@trellis/service';
import type { Logger } from 'pino';
import type { Exchange } from './exchange.js';

const ms = (start: number) => Math.round((performance.now() - start) * 100) / 100;

/** The access-log line of a proxied request. */
export function logProxied(logger: Logger, ex: Exchange): void {
  logger.info(
    {
      req_id: ex.requestId,
      method: ex.method,
      route: ex.routeName,
      upstream: ex.group.name,
      instance: ex.instance?.url,
      status: ex.status || ex.res.statusCode,
      attempts: ex.attempts,
      client: ex.clientKey,
      ms: ms(ex.start),
    },
    'proxied',
  );
}

/** The access-log line of a request the gateway answered itself. */
export function logRefused(
  logger: Logger,
  requestId: string,
  route: string | undefined,
  status: number,
  start: number,
): void {
  logger.info({ req_id: requestId, route, status, ms: ms(start) }, 'refused');
}

/** Records the gateway hop of a proxied request as a SERVER span. */
export function recordGatewaySpan(recorder: SpanRecorder, ex: Exchange): void {
  const status = ex.status || ex.res.statusCode;
  const [, traceId = '', spanId = ''] = ex.traceparent.split('-');
  const durationMs = performance.now() - ex.start;
  recorder.record({
    traceId,
    spanId,
    parentSpanId: ex.parentSpanId,
    name: `${ex.method} ${ex.routeName}`,
    kind: 'server',
    service: 'gateway',
    startMs: Date.now() - durationMs,
    durationMs,
    status: status >= 500 ? 'error' : 'unset',
    statusMessage: undefined,
    attributes: {
      'http.request.method': ex.method,
      'http.response.status_code': status,
      'trellis.request_id': ex.requestId,
      'trellis.upstream': ex.group.name,
      'trellis.attempts': ex.attempts,
    },
    events: [],
  });
}
