/**
 * One proxied request: picks an instance, sends through its breaker and pool, streams the
 * answer back, and retries on another instance when that is safe (idempotent method or
 * Idempotency-Key, or a connection that was refused so nothing was sent) and the upstream's
 * retry budget allows. It is also the undici dispatch handler, so a request allocates one
 * object for all of this, and the response body is written straight to the client socket
 * with backpressure.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { isCircuitBreakerOpenError } from '@trellis/resilience';
import type { Dispatcher } from 'undici';
import { BadGatewayError, NoHealthyUpstreamError, UpstreamTimeoutError } from './errors.js';
import { responseHeaders } from './forward-headers.js';
import type { RouteMetrics } from './gateway-metrics.js';
import type { UpstreamGroup, UpstreamInstance } from './upstream.js';

type Controller = Dispatcher.DispatchController;

/** What an exchange needs from the gateway. */
export interface ExchangeHost {
  now(): number;
  /** Sends a gateway error answer (JSON) unless headers went out already. */
  sendError(exchange: Exchange, error: unknown): void;
  /** Called once when the exchange ends (metrics, access log). */
  finished(exchange: Exchange): void;
  retried(group: UpstreamGroup): void;
  ejected(group: UpstreamGroup, instance: UpstreamInstance): void;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** A proxied request in flight. */
export class Exchange {
  instance: UpstreamInstance | undefined;
  attempts = 0;
  status = 0;
  /** Headers added to the upstream's answer (request id, rate limit, CORS). */
  extraHeaders: Record<string, string> | undefined;
  clientKey = '';
  /** The `traceparent` sent upstream (its span id is the gateway hop's). */
  traceparent = '';
  parentSpanId: string | undefined;
  private controller: Controller | null = null;
  private discarding = false;
  private dispatched = false;
  private ended = false;
  /** Instances whose breaker turned this request away (each may be tried once). */
  private breakerRejections = 0;
  private resolveHeaders: ((status: number) => void) | undefined;
  private rejectHeaders: ((error: unknown) => void) | undefined;
  private readonly retryable: boolean;
  private readonly opts: Dispatcher.DispatchOptions;
  private readonly send = (): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      this.resolveHeaders = resolve;
      this.rejectHeaders = reject;
      this.dispatched = true;
      try {
        (this.instance as UpstreamInstance).pool.dispatch(this.opts, this);
      } catch (error) {
        // A pool closed by a reload in between: treat it like a connection that failed.
        this.onResponseError(null as unknown as Controller, error as Error);
      }
    });
  private readonly onBreakerRejected = (error: unknown) => {
    if (this.dispatched) return; // failures after dispatch are handled by the dispatch callbacks
    const instance = this.instance as UpstreamInstance;
    instance.outstanding--;
    if (isCircuitBreakerOpenError(error)) {
      // A HALF_OPEN breaker with its probes in flight counts as available yet rejects: without a
      // bound, two such instances passed the request back and forth in microtasks forever, and
      // the event loop (the probes' answers included) never ran again.
      if (++this.breakerRejections >= this.group.instances.length) {
        const now = this.host.now();
        this.host.sendError(this, new NoHealthyUpstreamError(this.group.name, this.group.retryAfterMs(now)));
        this.finish();
        return;
      }
      this.tryNext(instance, false);
      return;
    }
    this.host.sendError(this, error);
    this.finish();
  };

  constructor(
    private readonly host: ExchangeHost,
    readonly res: ServerResponse,
    readonly group: UpstreamGroup,
    readonly metrics: RouteMetrics,
    readonly routeName: string,
    readonly requestId: string,
    readonly method: string,
    path: string,
    headers: string[],
    body: Buffer | null,
    headersTimeout: number,
    idempotencyKey: boolean,
    readonly start: number,
  ) {
    this.retryable = SAFE_METHODS.has(method) || idempotencyKey;
    this.opts = {
      method: method as Dispatcher.HttpMethod,
      path,
      headers,
      body,
      headersTimeout,
      bodyTimeout: 0,
    };
  }

  /** Starts the first attempt. */
  run(): void {
    const instance = this.group.pick(this.host.now());
    if (!instance) {
      this.host.sendError(
        this,
        new NoHealthyUpstreamError(this.group.name, this.group.retryAfterMs(this.host.now())),
      );
      this.finish();
      return;
    }
    this.attempt(instance);
  }

  private attempt(instance: UpstreamInstance): void {
    this.instance = instance;
    this.attempts++;
    this.dispatched = false;
    this.discarding = false;
    instance.outstanding++;
    instance.breaker.execute(this.send).then(undefined, this.onBreakerRejected);
  }

  /** Next instance after `failed`: another one if possible, else the same one again. */
  private tryNext(failed: UpstreamInstance, isRetry: boolean): void {
    const now = this.host.now();
    const next = this.group.pick(now, failed) ?? (isRetry ? this.group.pick(now) : undefined);
    if (!next) {
      this.host.sendError(this, new NoHealthyUpstreamError(this.group.name, this.group.retryAfterMs(now)));
      this.finish();
      return;
    }
    if (isRetry) this.host.retried(this.group);
    this.attempt(next);
  }

  private mayRetry(notSent: boolean): boolean {
    return (
      (this.retryable || notSent) &&
      this.attempts < this.group.config.retry.attempts &&
      !this.res.destroyed &&
      this.group.budget.tryRetry()
    );
  }

  // undici dispatch handler ---------------------------------------------------------------

  onRequestStart(controller: Controller): void {
    this.controller = controller;
  }

  onResponseStart(_c: Controller, statusCode: number, headers: IncomingHttpHeaders): void {
    const instance = this.instance as UpstreamInstance;
    const failed = this.group.config.failureStatuses.includes(statusCode);
    this.resolveHeaders?.(statusCode);
    if (failed) {
      if (instance.failed(this.host.now(), this.group)) this.host.ejected(this.group, instance);
      if (this.mayRetry(false)) {
        this.discarding = true; // read the small error body to keep the connection, then retry
        return;
      }
    } else {
      instance.succeeded(this.host.now());
    }
    this.status = statusCode;
    try {
      this.res.writeHead(statusCode, responseHeaders(headers, this.extraHeaders));
    } catch (error) {
      // The upstream sent a header Node refuses to forward (invalid characters).
      this.controller?.abort(error as Error);
    }
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.discarding) return;
    const res = this.res;
    if (res.destroyed) {
      controller.abort(new Error('client went away'));
      return;
    }
    if (!res.write(chunk)) {
      controller.pause();
      res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    const instance = this.instance as UpstreamInstance;
    instance.outstanding--;
    if (this.discarding) {
      this.tryNext(instance, true);
      return;
    }
    this.res.end();
    this.finish();
  }

  onResponseError(_c: Controller, error: Error): void {
    const instance = this.instance as UpstreamInstance;
    instance.outstanding--;
    if (this.status !== 0) {
      // Headers already went to the client: all we can do is cut the response.
      this.res.destroy(error);
      this.finish();
      return;
    }
    if (!this.discarding) {
      this.rejectHeaders?.(error);
      if (instance.failed(this.host.now(), this.group)) this.host.ejected(this.group, instance);
    }
    const code = (error as { code?: string }).code;
    const notSent = code === 'ECONNREFUSED';
    if (this.discarding || this.mayRetry(notSent)) {
      this.tryNext(instance, true);
      return;
    }
    this.host.sendError(
      this,
      code === 'UND_ERR_HEADERS_TIMEOUT'
        ? new UpstreamTimeoutError(this.group.name, (this.opts.headersTimeout as number) ?? 0)
        : new BadGatewayError(this.group.name, code ?? error.message, { cause: error }),
    );
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    const status = this.status || this.res.statusCode;
    this.metrics.byClass[(status / 100) | 0]?.inc();
    this.metrics.duration.observe((performance.now() - this.start) / 1000);
    this.host.finished(this);
  }
}
