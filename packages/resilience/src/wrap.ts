/**
 * Composition. `wrap(a, b, c).execute(fn)` runs `a.execute(() => b.execute(() =>
 * c.execute(fn)))`: the first policy is the outermost. The recommended order, outermost
 * first, is
 *
 *     fallback → retry → circuit breaker → rate limiter → timeout → bulkhead → work
 *
 * - retry outside the breaker: every attempt is seen (and counted) by the breaker, and an
 *   open breaker's fast rejection carries `retryAfterMs`, which retry honours;
 * - timeout inside the breaker: a timed-out attempt is a breaker failure;
 * - timeout outside the bulkhead: time spent queueing counts against the timeout, and a
 *   timed-out caller leaves the queue at once, while a running call keeps its slot until the
 *   work has really stopped (the timeout aborts its signal);
 * - fallback outermost: it answers only once everything else gave up.
 */
import type { FallbackPolicy } from './fallback.js';
import type { Policy, Work } from './policy.js';
import { neverAborted } from './signal.js';

/** What a composed policy may return besides the work's result (the fallbacks' results). */
export type FallbackResult<P> = P extends FallbackPolicy<infer R> ? R : never;

/** Several policies run as one (see the module comment for the order). */
export class WrappedPolicy<R = never> implements Policy<R> {
  readonly policies: readonly Policy<unknown>[];

  constructor(policies: readonly Policy<unknown>[]) {
    this.policies = policies;
  }

  execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T | R> {
    return this.run(0, fn, signal) as Promise<T | R>;
  }

  private run<T>(i: number, fn: Work<T>, signal: AbortSignal | undefined): Promise<unknown> {
    const policy = this.policies[i];
    if (policy === undefined) {
      try {
        return Promise.resolve(fn(signal ?? neverAborted));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (i === this.policies.length - 1) return policy.execute(fn, signal);
    return policy.execute((s) => this.run(i + 1, fn, s), signal);
  }
}

/**
 * Composes policies, outermost first.
 *
 * @example
 * ```ts
 * const policy = wrap(retry({ maxAttempts: 3 }), new CircuitBreaker({ failureThreshold: 5 }), timeout(2000));
 * const res = await policy.execute((signal) => fetch(url, { signal }));
 * ```
 */
export function wrap<const P extends readonly Policy<unknown>[]>(
  ...policies: P
): WrappedPolicy<FallbackResult<P[number]>> {
  return new WrappedPolicy(policies);
}

/** The policies of a {@link pipeline}, each optional; they are applied in the recommended order. */
export interface PipelineParts<R = never> {
  fallback?: FallbackPolicy<R>;
  retry?: Policy<unknown>;
  breaker?: Policy<unknown>;
  rateLimit?: Policy<unknown>;
  timeout?: Policy<unknown>;
  bulkhead?: Policy<unknown>;
}

/**
 * Composes the given policies in the recommended order (fallback → retry → breaker → rate
 * limit → timeout → bulkhead), so the order cannot be got wrong by accident.
 *
 * @example
 * ```ts
 * const policy = pipeline({ timeout: timeout(2000), breaker, retry: retry({ maxAttempts: 3 }) });
 * ```
 */
export function pipeline<R = never>(parts: PipelineParts<R>): WrappedPolicy<R> {
  const order = [parts.fallback, parts.retry, parts.breaker, parts.rateLimit, parts.timeout, parts.bulkhead];
  return new WrappedPolicy<R>(order.filter((p): p is Policy<unknown> => p !== undefined));
}
