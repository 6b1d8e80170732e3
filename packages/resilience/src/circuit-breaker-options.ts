/** Options of the circuit breaker and their normalisation (checked once, at construction). */
import { type Clock, systemClock } from '@trellis/core';
import { CountWindow, type OutcomeWindow, TimeWindow } from './sliding-window.js';
import { int, invalid, num, rate } from './validate.js';

/** Which recent calls the failure-rate and slow-call-rate thresholds look at. */
export type SlidingWindowOptions =
  /** The last `size` calls, however old. */
  | { type: 'count'; size: number }
  /** The calls of the last `durationMs`, kept in `buckets` slices (default 10). */
  | { type: 'time'; durationMs: number; buckets?: number };

/** Configuration of a {@link CircuitBreaker}. Every field is optional. */
export interface CircuitBreakerOptions {
  /** Name used in errors, events and metrics (e.g. the upstream). */
  name?: string;
  /**
   * Consecutive failures that open a CLOSED breaker (the seed's trigger). Default 5, or
   * disabled (`Infinity`) when a rate threshold is configured and this is not.
   */
  failureThreshold?: number;
  /** Consecutive successful probes that close a HALF_OPEN breaker (seed). Default 1. */
  successThreshold?: number;
  /** Milliseconds the breaker stays OPEN before admitting probes (seed). Default 30 000. */
  timeout?: number;
  /**
   * Each time a probe fails and the breaker re-opens, the open time is multiplied by this
   * (exponential back-off of a dependency that stays down). Default 1 (constant).
   */
  timeoutMultiplier?: number;
  /** Upper bound of the open time when `timeoutMultiplier > 1`. Default 10 × `timeout`. */
  maxTimeout?: number;
  /** Window for the rate thresholds. Default `{ type: 'count', size: 100 }` when a rate is set. */
  window?: SlidingWindowOptions;
  /** Failure rate in (0, 1] over the window that opens the breaker (e.g. 0.5). */
  failureRateThreshold?: number;
  /** Calls the window must hold before a rate can trip. Default min(10, count window size). */
  minimumCalls?: number;
  /** A call taking at least this many ms counts as slow. Needed for `slowCallRateThreshold`. */
  slowCallDurationThreshold?: number;
  /** Slow-call rate in (0, 1] over the window that opens the breaker. */
  slowCallRateThreshold?: number;
  /** Probes allowed in flight at once while HALF_OPEN; extra calls are rejected. Default 1. */
  halfOpenMaxProbes?: number;
  /**
   * A probe not settled after this many ms counts as failed: the breaker re-opens, the probe
   * is aborted through its signal and its caller gets a `TimeoutError`. Default `timeout`;
   * `Infinity` disables it.
   */
  probeTimeout?: number;
  /** Which errors count as failures (default: all). Others count as successes: the dependency answered. */
  isFailure?: (error: unknown) => boolean;
  /** Which results count as failures although no error was thrown (e.g. an HTTP 503 response). */
  isResultFailure?: (result: unknown) => boolean;
  /** Source of time. Default `systemClock`. */
  clock?: Clock;
}

/** Options after defaults and checks. */
export interface ResolvedBreakerOptions {
  name: string;
  failureThreshold: number;
  successThreshold: number;
  timeout: number;
  timeoutMultiplier: number;
  maxTimeout: number;
  failureRateThreshold: number;
  slowCallRateThreshold: number;
  slowCallDurationThreshold: number;
  minimumCalls: number;
  halfOpenMaxProbes: number;
  probeTimeout: number;
  isFailure: ((error: unknown) => boolean) | undefined;
  isResultFailure: ((result: unknown) => boolean) | undefined;
  clock: Clock;
  makeWindow: (() => OutcomeWindow) | undefined;
}

/** Applies defaults and validates; throws `ValidationError` naming the bad option. */
export function resolveBreakerOptions(o: CircuitBreakerOptions): ResolvedBreakerOptions {
  const failureRate =
    o.failureRateThreshold === undefined ? 2 : rate('failureRateThreshold', o.failureRateThreshold);
  const slowRate =
    o.slowCallRateThreshold === undefined ? 2 : rate('slowCallRateThreshold', o.slowCallRateThreshold);
  const usesRates = failureRate <= 1 || slowRate <= 1;
  if (slowRate <= 1 && o.slowCallDurationThreshold === undefined) {
    invalid('slowCallDurationThreshold', 'required when slowCallRateThreshold is set');
  }
  const timeout = num('timeout', o.timeout ?? 30_000, 0);
  const window = o.window ?? (usesRates ? { type: 'count', size: 100 } : undefined);
  let makeWindow: (() => OutcomeWindow) | undefined;
  let defaultMinimum = 10;
  if (window && usesRates) {
    if (window.type === 'count') {
      const size = int('window.size', window.size, 1);
      if (size > 1_000_000) invalid('window.size', 'at most 1000000');
      defaultMinimum = Math.min(10, size);
      makeWindow = () => new CountWindow(size);
    } else if (window.type === 'time') {
      const durationMs = num('window.durationMs', window.durationMs, 1);
      const buckets = int('window.buckets', window.buckets ?? 10, 1);
      if (buckets > 10_000) invalid('window.buckets', 'at most 10000');
      makeWindow = () => new TimeWindow(durationMs, buckets);
    } else {
      invalid('window.type', "expected 'count' or 'time'");
    }
  }
  const resolved: ResolvedBreakerOptions = {
    name: o.name ?? '',
    failureThreshold: int(
      'failureThreshold',
      o.failureThreshold ?? (usesRates ? Number.POSITIVE_INFINITY : 5),
      1,
      true,
    ),
    successThreshold: int('successThreshold', o.successThreshold ?? 1, 1),
    timeout,
    timeoutMultiplier: num('timeoutMultiplier', o.timeoutMultiplier ?? 1, 1),
    maxTimeout: num('maxTimeout', o.maxTimeout ?? timeout * 10, timeout),
    failureRateThreshold: failureRate,
    slowCallRateThreshold: slowRate,
    slowCallDurationThreshold:
      o.slowCallDurationThreshold === undefined
        ? Number.POSITIVE_INFINITY
        : num('slowCallDurationThreshold', o.slowCallDurationThreshold, 0),
    minimumCalls: int('minimumCalls', o.minimumCalls ?? defaultMinimum, 1),
    halfOpenMaxProbes: int('halfOpenMaxProbes', o.halfOpenMaxProbes ?? 1, 1),
    probeTimeout:
      o.probeTimeout === undefined || o.probeTimeout === Number.POSITIVE_INFINITY
        ? (o.probeTimeout ?? (timeout > 0 ? timeout : Number.POSITIVE_INFINITY))
        : num('probeTimeout', o.probeTimeout, 1),
    isFailure: o.isFailure,
    isResultFailure: o.isResultFailure,
    clock: o.clock ?? systemClock,
    makeWindow,
  };
  return resolved;
}
