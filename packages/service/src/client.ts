/**
 * Typed service clients: call another service's endpoints with the same contracts it serves,
 * over a pooled keep-alive undici connection, through a per-upstream circuit breaker, with
 * retries only when they cannot act twice (idempotent methods, or an Idempotency-Key), a
 * per-attempt timeout and the caller's deadline. Trace context, correlation id and the
 * caller's verified identity travel along automatically.
 */
import { SpanKind } from '@opentelemetry/api';
import { type Clock, isTrellisError, systemClock } from '@trellis/core';
import {
  type BackoffOptions,
  CircuitBreaker,
  type CircuitBreakerOptions,
  DeadlineExceededError,
  isTransientError,
  RetryBudget,
  type RetryBudgetOptions,
  RetryPolicy,
  TimeoutPolicy,
} from '@trellis/resilience';
import { type Dispatcher, Pool } from 'undici';
import { buildPath, buildQuery, checkInput } from './client-request.js';
import { readResponse } from './client-response.js';
import { currentRequestContext } from './context.js';
import type {
  EndpointDefinition,
  EndpointInput,
  EndpointResponse,
  HttpMethod,
  RequiredInputParts,
} from './endpoint.js';
import { IDEMPOTENT_METHODS } from './endpoint.js';
import { isRemoteError, UpstreamError } from './errors.js';
import { IDEMPOTENCY_KEY_HEADER } from './idempotency.js';
import { IDENTITY_TOKEN_HEADER } from './internal-token.js';
import type { ServiceMetrics } from './metrics.js';
import { CORRELATION_ID_HEADER, DEADLINE_HEADER } from './propagation.js';
import { injectContext, type Tracing } from './tracing.js';

/** Options of {@link createClient}. */
export interface ClientOptions<Eps extends Record<string, EndpointDefinition>> {
  /** Name of the upstream (breaker name, errors, spans). */
  name: string;
  /** `http://host:port` plus an optional path prefix. */
  baseUrl: string;
  /** Endpoints to expose as typed methods. */
  endpoints?: Eps;
  /** Per-attempt timeout (ms). Default 5000. */
  timeoutMs?: number;
  /** Retry settings (only applied when safe), or `false`. Default 3 attempts with jittered back-off. */
  retry?:
    | { maxAttempts?: number; backoff?: BackoffOptions; budget?: RetryBudget | RetryBudgetOptions }
    | false;
  /** A breaker to share, options for this client's own, or `false`. Default: opens after 5 failures, 10 s. */
  breaker?: CircuitBreaker | CircuitBreakerOptions | false;
  /** Keep-alive connections to the upstream. Default 32. */
  connections?: number;
  /** Use this dispatcher instead of a pool (tests, proxies). */
  dispatcher?: Dispatcher;
  /** Headers sent on every call. */
  headers?: Record<string, string>;
  /**
   * This service's own identity token, sent when a call is made outside any request (a
   * background job, a saga step). Inside a request the caller's token is forwarded instead.
   */
  serviceIdentity?: () => string | undefined | Promise<string | undefined>;
  tracing?: Tracing;
  /** Exposes the breaker's state on this registry. */
  metrics?: ServiceMetrics;
  /** Largest response body accepted (bytes). Default 10 MiB. */
  maxResponseBytes?: number;
  clock?: Clock;
}

/** Per-call options. */
export interface CallOptions {
  /** Makes an unsafe call retryable and lets the upstream deduplicate it. */
  idempotencyKey?: string;
  signal?: AbortSignal;
  /** Overrides the per-attempt timeout. */
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/** Loose input of an untyped call. */
export interface RawInput {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  body?: unknown;
}

type Method<E extends EndpointDefinition> = [RequiredInputParts<E>] extends [never]
  ? (input?: EndpointInput<E>, options?: CallOptions) => Promise<EndpointResponse<E>>
  : (input: EndpointInput<E>, options?: CallOptions) => Promise<EndpointResponse<E>>;

/** A client with one typed method per endpoint. */
export type TypedClient<Eps extends Record<string, EndpointDefinition>> = ServiceClient & {
  readonly [K in keyof Eps]: Method<Eps[K]>;
};

/** Connection-refused means nothing reached the upstream: safe to retry any method. */
function notSent(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED';
}

/** The untyped core of every client. */
export class ServiceClient {
  readonly name: string;
  readonly breaker: CircuitBreaker | undefined;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy | undefined;
  private readonly clock: Clock;
  private readonly o: ClientOptions<Record<string, EndpointDefinition>>;

  constructor(options: ClientOptions<Record<string, EndpointDefinition>>) {
    this.o = options;
    this.name = options.name;
    const url = new URL(options.baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher = options.dispatcher ?? new Pool(this.origin, { connections: options.connections ?? 32 });
    const b = options.breaker;
    this.breaker =
      b === false
        ? undefined
        : b instanceof CircuitBreaker
          ? b
          : new CircuitBreaker({
              name: options.name,
              failureThreshold: 5,
              timeout: 10_000,
              clock: this.clock,
              // The upstream answered: a 4xx is the caller's problem, not the upstream's health.
              isFailure: (e) => !isRemoteError(e),
              ...b,
            });
    if (this.breaker && options.metrics) options.metrics.trackBreaker(this.breaker, options.name);
    const r = options.retry;
    if (r !== false) {
      const budget =
        r?.budget instanceof RetryBudget ? r.budget : new RetryBudget({ clock: this.clock, ...r?.budget });
      this.retry = new RetryPolicy({
        maxAttempts: r?.maxAttempts ?? 3,
        backoff: r?.backoff ?? { initialDelay: 50, maxDelay: 1000 },
        budget,
        clock: this.clock,
        isRetryable: (e) =>
          isTransientError(e) &&
          (e as { details?: { reason?: string } }).details?.reason !== 'invalid_response',
      });
    }
  }

  /** Calls an endpoint with loose input (the typed methods call this). */
  async call(e: EndpointDefinition, input: RawInput = {}, options: CallOptions = {}): Promise<unknown> {
    checkInput(e, input);
    const path = `${this.basePath}${buildPath(e.path, input.params)}${buildQuery(input.query)}`;
    const body = input.body === undefined ? undefined : JSON.stringify(input.body);
    const ctx = currentRequestContext();
    const headers: Record<string, string> = { accept: 'application/json', ...this.o.headers };
    for (const [k, v] of Object.entries(input.headers ?? {})) if (v !== undefined) headers[k] = String(v);
    Object.assign(headers, options.headers);
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (ctx) headers[CORRELATION_ID_HEADER] = ctx.correlationId;
    const token = ctx ? ctx.identityToken : await this.o.serviceIdentity?.();
    if (token) headers[IDENTITY_TOKEN_HEADER] = token;
    const key = options.idempotencyKey;
    if (key) headers[IDEMPOTENCY_KEY_HEADER] = key;
    const deadline = ctx?.deadline;
    if (deadline !== undefined && deadline <= this.clock.now()) {
      throw new DeadlineExceededError(`Deadline passed before calling ${this.name}`);
    }
    const attempt = (signal: AbortSignal) =>
      this.attempt(e, path, headers, body, deadline, signal, options.timeoutMs);
    const safe = IDEMPOTENT_METHODS.has(e.method) || key !== undefined;
    const run = (signal: AbortSignal) =>
      this.retry && safe
        ? this.retry.execute(attempt, signal)
        : this.retry
          ? this.onceUnlessNotSent(attempt, signal)
          : attempt(signal);
    const traced = (signal: AbortSignal) =>
      this.o.tracing
        ? this.o.tracing.withSpan(`${e.method} ${this.name}${e.path}`, () => run(signal), {
            kind: SpanKind.CLIENT,
            attributes: {
              'http.request.method': e.method,
              'server.address': this.origin,
              'peer.service': this.name,
            },
          })
        : run(signal);
    if (deadline === undefined) return traced(options.signal ?? new AbortController().signal);
    const controller = new AbortController();
    const onAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = this.clock.setTimeout(
      () => controller.abort(new DeadlineExceededError(`Deadline passed while calling ${this.name}`)),
      deadline - this.clock.now(),
    );
    try {
      return await traced(controller.signal);
    } finally {
      this.clock.clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** An unsafe call: one attempt, plus one retry only when the connection was refused. */
  private async onceUnlessNotSent(attempt: (s: AbortSignal) => Promise<unknown>, signal: AbortSignal) {
    try {
      return await attempt(signal);
    } catch (error) {
      if (!notSent(error) || signal.aborted) throw error;
      return attempt(signal);
    }
  }

  private attempt(
    e: EndpointDefinition,
    path: string,
    baseHeaders: Record<string, string>,
    body: string | undefined,
    deadline: number | undefined,
    signal: AbortSignal,
    timeoutOverride: number | undefined,
  ): Promise<unknown> {
    const now = this.clock.now();
    const budget = timeoutOverride ?? this.timeoutMs;
    const limit = deadline === undefined ? budget : Math.min(budget, deadline - now);
    const headers = { ...baseHeaders };
    headers[DEADLINE_HEADER] = String(Math.max(0, Math.floor(limit)));
    injectContext(headers);
    const send = (s: AbortSignal) =>
      this.dispatcher
        .request({ origin: this.origin, method: e.method as HttpMethod, path, headers, body, signal: s })
        .catch((error: unknown) => {
          if (isTrellisError(error)) throw error;
          if (s.aborted && isTrellisError(s.reason)) throw s.reason;
          throw new UpstreamError(this.name, `Calling ${this.name} failed: ${(error as Error).message}`, 0, {
            cause: error,
          });
        })
        .then((res) => readResponse(this.name, res, e.response, this.o.maxResponseBytes ?? 10 * 1024 * 1024));
    const timed = (s: AbortSignal) => new TimeoutPolicy(limit, { clock: this.clock }).execute(send, s);
    return this.breaker ? this.breaker.execute(timed, signal) : timed(signal);
  }

  /** Closes the connection pool (when the client created it). */
  async close(): Promise<void> {
    this.breaker?.dispose();
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}

/**
 * Creates a typed client for another service's endpoints.
 *
 * @example
 * ```ts
 * const users = createClient({ name: 'users', baseUrl: 'http://users:3001', endpoints: { getUser } });
 * const user = await users.getUser({ params: { id } }); // typed from getUser.response
 * ```
 */
export function createClient<const Eps extends Record<string, EndpointDefinition> = Record<never, never>>(
  options: ClientOptions<Eps>,
): TypedClient<Eps> {
  const client = new ServiceClient(options);
  for (const [key, e] of Object.entries(options.endpoints ?? {})) {
    Object.defineProperty(client, key, {
      value: (input?: RawInput, callOptions?: CallOptions) => client.call(e, input, callOptions),
      enumerable: true,
    });
  }
  return client as TypedClient<Eps>;
}
