/**
 * The circuit breaker: the seed's API (`new CircuitBreaker({ failureThreshold,
 * successThreshold, timeout })`, `execute`, `state`) grown into a production breaker with
 * sliding windows, slow-call tripping, bounded half-open probes with their own timeout,
 * manual isolation, events, counters and save/restore (state machine in breaker-core.ts).
 *
 * The CLOSED success path is the hot path: no async frame, no closure, no allocation beyond
 * the promise `then` returns, and no clock read unless slow calls or a time window need one.
 */
import { BreakerCore } from './breaker-core.js';
import type { CircuitBreakerOptions } from './circuit-breaker-options.js';
import { CircuitState } from './circuit-state.js';
import { CircuitBreakerOpenError, TimeoutError } from './errors.js';
import type { Policy, Work } from './policy.js';
import { rejectLater } from './reject-later.js';
import { abortError, linkedController, neverAborted } from './signal.js';

const { CLOSED, OPEN, HALF_OPEN } = CircuitState;

/**
 * A circuit breaker. CLOSED: calls run and outcomes are recorded; too many failures (in a
 * row, or as a rate over a sliding window) or too many slow calls open it. OPEN: calls are
 * rejected fast with {@link CircuitBreakerOpenError} for `timeout` ms. HALF_OPEN: up to
 * `halfOpenMaxProbes` probe calls run at once (others are rejected); `successThreshold`
 * successes in a row close it, one failure or a probe timeout re-opens it.
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ failureThreshold: 5, successThreshold: 2, timeout: 30_000 });
 * const user = await breaker.execute((signal) => fetch(`${usersUrl}/users/${id}`, { signal }));
 * ```
 */
export class CircuitBreaker extends BreakerCore implements Policy {
  /** Throws `ValidationError` naming the option when an option is out of range. */
  constructor(options: CircuitBreakerOptions = {}) {
    super(options);
  }

  /**
   * Runs `fn` through the breaker.
   *
   * Throws `CircuitBreakerOpenError` when the breaker rejects the call, `TimeoutError` when a
   * half-open probe exceeds `probeTimeout`, `AbortedError` when `signal` is already aborted;
   * otherwise whatever `fn` throws.
   */
  execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T> {
    if (this._state !== CLOSED || this.timed || (signal !== undefined && signal !== neverAborted)) {
      return this.executeOther(fn, signal);
    }
    // The hot path: no async frame, no closure, no clock read; two pre-bound handlers on the
    // work's own promise.
    let work: PromiseLike<T> | T;
    try {
      work = fn(neverAborted);
    } catch (error) {
      return this.thrownSync(error, 0);
    }
    if (work instanceof Promise) {
      // Observe the outcome beside the caller instead of in front of it: the caller awaits the
      // work's own promise (one microtask hop fewer than a chained `.then`), and this handler,
      // registered first, still updates the breaker before the caller's continuation runs.
      work.then(this.observeResult, this.observeError);
      return work as Promise<T>;
    }
    return Promise.resolve(work).then(this.onResult as (result: T) => T, this.onError);
  }

  /** Every call that is not the plain CLOSED case: not closed, with a signal, or timed. */
  private executeOther<T>(fn: Work<T>, signal: AbortSignal | undefined): Promise<T> {
    if (this._state !== CLOSED) return this.executeNotClosed(fn, signal);
    if (signal !== undefined && signal !== neverAborted) return this.executeWithSignal(fn, signal);
    const start = this.now();
    let work: PromiseLike<T> | T;
    try {
      work = fn(neverAborted);
    } catch (error) {
      return this.thrownSync(error, start);
    }
    return Promise.resolve(work).then(
      (result) => {
        this.closedResult(result, start);
        return result;
      },
      (error: unknown) => {
        this.closedError(error, start);
        throw error;
      },
    );
  }

  /** Work that threw instead of returning a promise: record it, reject like an async failure. */
  private thrownSync(error: unknown, start: number): Promise<never> {
    this.closedError(error, start);
    return Promise.reject(error);
  }

  /**
   * CLOSED with a caller signal: an abort by the caller is not the dependency's fault, so the
   * outcome of an aborted call is ignored, as is one that lands after a state change.
   */
  private async executeWithSignal<T>(fn: Work<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) throw abortError(signal);
    const gen = this.gen;
    const start = this.timed ? this.now() : 0;
    let result: T;
    try {
      result = await fn(signal);
    } catch (error) {
      if (gen !== this.gen || signal.aborted) this.ignored++;
      else this.closedError(error, start);
      throw error;
    }
    if (gen === this.gen) this.closedResult(result, start);
    else this.ignored++;
    return result;
  }

  /** OPEN or HALF_OPEN: reject fast, or run the call as a probe. */
  private executeNotClosed<T>(fn: Work<T>, signal: AbortSignal | undefined): Promise<T> {
    if (this._state === OPEN) {
      if (this.isolatedFlag || this.now() < this.openUntil) return this.reject(OPEN);
      this.transition(HALF_OPEN, 'timeoutElapsed');
    }
    if (this.probes >= this.o.halfOpenMaxProbes) return this.reject(HALF_OPEN);
    const sig = signal ?? neverAborted;
    if (sig.aborted) return Promise.reject(abortError(sig));
    return this.probe(fn, signal);
  }

  private reject(state: CircuitState): Promise<never> {
    this.rejections++;
    const isolated = this.isolatedFlag;
    const retryAfter = state === OPEN && !isolated ? Math.max(0, this.openUntil - this.now()) : 0;
    const message = state === HALF_OPEN ? this.messages[0] : isolated ? this.messages[2] : this.messages[1];
    return rejectLater(CircuitBreakerOpenError.fast(this.name, state, retryAfter, isolated, message));
  }

  /** Runs one half-open probe, bounded by `probeTimeout`. */
  private async probe<T>(fn: Work<T>, signal: AbortSignal | undefined): Promise<T> {
    this.probes++;
    const gen = this.gen;
    const start = this.now();
    const { controller, unlink } = linkedController(signal);
    let timer: { cancel(): void } | undefined;
    const work = new Promise<T>((resolve, reject) => {
      if (this.o.probeTimeout !== Number.POSITIVE_INFINITY) {
        const handle = this.clock.setTimeout(() => {
          if (timer) this.probeTimers.delete(timer);
          const error = new TimeoutError(
            this.o.probeTimeout,
            `Half-open probe timed out after ${this.o.probeTimeout} ms`,
          );
          controller.abort(error);
          if (gen === this.gen) {
            this.probeTimeouts++;
            this.failures++;
            this.transition(OPEN, 'probeTimeout');
          }
          reject(error);
        }, this.o.probeTimeout);
        timer = { cancel: () => this.clock.clearTimeout(handle) };
        this.probeTimers.add(timer);
      }
      try {
        Promise.resolve(fn(controller.signal)).then(resolve, reject);
      } catch (error) {
        reject(error);
      }
    });
    try {
      const result = await work;
      if (gen === this.gen) {
        const failed = this.o.isResultFailure?.(result) === true;
        this.settleProbe(failed, start);
      } else {
        this.ignored++;
      }
      return result;
    } catch (error) {
      if (gen === this.gen) {
        if (signal?.aborted) {
          this.probes--;
          this.ignored++;
        } else {
          this.settleProbe(this.o.isFailure === undefined || this.o.isFailure(error), start);
        }
      } else if (!(error instanceof TimeoutError && controller.signal.reason === error)) {
        this.ignored++;
      }
      throw error;
    } finally {
      if (timer) {
        timer.cancel();
        this.probeTimers.delete(timer);
      }
      unlink();
    }
  }
}
