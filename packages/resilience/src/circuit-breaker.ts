/**
 * The circuit breaker: the seed's API (`new CircuitBreaker({ failureThreshold,
 * successThreshold, timeout })`, `execute`, `state`) grown into a production breaker with
 * sliding windows, slow-call tripping, bounded half-open probes with their own timeout,
 * manual isolation, events, counters and save/restore.
 *
 * The CLOSED success path is the hot path: no closures, no allocation beyond the async frame,
 * no clock read unless slow calls or a time window need one.
 */
import type { Clock } from '@trellis/core';
import {
  type CircuitBreakerOptions,
  type ResolvedBreakerOptions,
  resolveBreakerOptions,
} from './circuit-breaker-options.js';
import { type BreakerSnapshot, readSnapshot } from './circuit-breaker-snapshot.js';
import { CircuitState } from './circuit-state.js';
import { CircuitBreakerOpenError, TimeoutError } from './errors.js';
import { fastNow } from './fast-clock.js';
import { Listeners } from './listeners.js';
import type { Policy, Work } from './policy.js';
import { abortError, linkedController, neverAborted } from './signal.js';
import { OUTCOME_CALL, OUTCOME_FAILURE, OUTCOME_SLOW, type OutcomeWindow } from './sliding-window.js';

const { CLOSED, OPEN, HALF_OPEN } = CircuitState;

/** Why a breaker changed state. */
export type StateChangeReason =
  | 'failureThreshold'
  | 'failureRate'
  | 'slowCallRate'
  | 'timeoutElapsed'
  | 'probeFailure'
  | 'probeTimeout'
  | 'probeSuccess'
  | 'isolate'
  | 'reset'
  | 'restore';

/** Emitted on every transition. */
export interface StateChangeEvent {
  breaker: string;
  from: CircuitState;
  to: CircuitState;
  reason: StateChangeReason;
  /** Clock time of the transition (ms). */
  at: number;
  /** When `to` is OPEN (and not isolated): the time probes will be admitted. */
  openUntil?: number;
}

/** Counters since construction (monotonic; for metrics) and the current window totals. */
export interface CircuitBreakerMetrics {
  state: CircuitState;
  isolated: boolean;
  successes: number;
  failures: number;
  slowCalls: number;
  /** Calls rejected without running (open, or half-open with every probe slot taken). */
  rejections: number;
  /** Calls whose outcome was not recorded (caller aborted, or finished after a state change). */
  ignored: number;
  probeTimeouts: number;
  stateChanges: number;
  probesInFlight: number;
  /** Totals of the sliding window (zero when no rate threshold is configured). */
  window: { calls: number; failures: number; slowCalls: number; failureRate: number; slowCallRate: number };
}

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
export class CircuitBreaker implements Policy {
  /** Name given in the options (`''` when none). */
  readonly name: string;
  private readonly o: ResolvedBreakerOptions;
  private readonly clock: Clock;
  /** Cheap time source (see fast-clock.ts). */
  private readonly now: () => number;
  private readonly window: OutcomeWindow | null;
  /** True when calls must be timed (slow-call detection). */
  private readonly timed: boolean;
  private readonly usesTimeWindow: boolean;
  /** No window, no timing, no result predicate: a success only resets the failure count. */
  private readonly simpleSuccess: boolean;
  private _state: CircuitState = CLOSED;
  /** Bumped on every transition; outcomes of calls started under another generation are ignored. */
  private gen = 0;
  private isolatedFlag = false;
  private consecutiveFailures = 0;
  private consecutiveSuccesses = 0;
  private probes = 0;
  private openUntil = 0;
  private currentTimeout: number;
  /** Rejection messages (half-open, open, isolated), built once. */
  private readonly messages: readonly [string, string, string];
  private readonly probeTimers = new Set<{ cancel(): void }>();
  private readonly stateListeners = new Listeners<StateChangeEvent>();
  private successes = 0;
  private failures = 0;
  private slowCalls = 0;
  private rejections = 0;
  private ignored = 0;
  private probeTimeouts = 0;
  private stateChanges = 0;

  /** Throws `ValidationError` when an option is out of range. */
  constructor(options: CircuitBreakerOptions = {}) {
    this.o = resolveBreakerOptions(options);
    this.name = this.o.name;
    this.clock = this.o.clock;
    this.now = fastNow(this.clock);
    this.window = this.o.makeWindow ? this.o.makeWindow() : null;
    this.timed = this.o.slowCallDurationThreshold !== Number.POSITIVE_INFINITY;
    this.usesTimeWindow = options.window?.type === 'time' && this.window !== null;
    this.simpleSuccess = this.window === null && !this.timed && this.o.isResultFailure === undefined;
    this.currentTimeout = this.o.timeout;
    this.messages = [
      CircuitBreakerOpenError.message(this.name, HALF_OPEN, false),
      CircuitBreakerOpenError.message(this.name, OPEN, false),
      CircuitBreakerOpenError.message(this.name, OPEN, true),
    ];
  }

  /** Current state. Reading it moves an OPEN breaker whose timeout elapsed to HALF_OPEN. */
  get state(): CircuitState {
    if (this._state === OPEN && !this.isolatedFlag && this.now() >= this.openUntil) {
      this.transition(HALF_OPEN, 'timeoutElapsed');
    }
    return this._state;
  }

  /**
   * Milliseconds until the breaker admits a probe: 0 unless OPEN, `Infinity` while isolated.
   * Reading it moves an OPEN breaker whose timeout elapsed to HALF_OPEN (and returns 0).
   */
  get retryAfterMs(): number {
    if (this.state !== OPEN) return 0;
    return this.isolatedFlag ? Number.POSITIVE_INFINITY : Math.max(0, this.openUntil - this.now());
  }

  /** True while opened by hand with {@link isolate}. */
  get isolated(): boolean {
    return this.isolatedFlag;
  }

  /**
   * Runs `fn` through the breaker.
   *
   * Throws `CircuitBreakerOpenError` when the breaker rejects the call, `TimeoutError` when a
   * half-open probe exceeds `probeTimeout`, `AbortedError` when `signal` is already aborted;
   * otherwise whatever `fn` throws.
   */
  execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T> {
    if (this._state !== CLOSED) return this.executeNotClosed(fn, signal);
    if (signal !== undefined && signal !== neverAborted) return this.executeWithSignal(fn, signal);
    // The hot path: no async frame and no closure (two pre-bound handlers on the work's promise).
    const start = this.timed ? this.now() : 0;
    let work: PromiseLike<T> | T;
    try {
      work = fn(neverAborted);
    } catch (error) {
      this.closedError(error, start);
      return Promise.reject(error);
    }
    const promise = work instanceof Promise ? (work as Promise<T>) : Promise.resolve(work);
    if (!this.timed) return promise.then(this.onResult as (result: T) => T, this.onError);
    return promise.then(
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

  private readonly onResult = (result: unknown): unknown => {
    // Consecutive-failure counting only (the seed's configuration): a success just resets it.
    if (this.simpleSuccess && this._state === CLOSED) {
      this.successes++;
      this.consecutiveFailures = 0;
    } else {
      this.closedResult(result, 0);
    }
    return result;
  };
  private readonly onError = (error: unknown): never => {
    this.closedError(error, 0);
    throw error;
  };

  private closedResult(result: unknown, start: number): void {
    if (this._state !== CLOSED) {
      this.ignored++;
      return;
    }
    this.recordClosed(this.o.isResultFailure?.(result) ? OUTCOME_FAILURE : OUTCOME_CALL, start);
  }

  private closedError(error: unknown, start: number): void {
    if (this._state !== CLOSED) {
      this.ignored++;
      return;
    }
    const isFailure = this.o.isFailure;
    this.recordClosed(isFailure === undefined || isFailure(error) ? OUTCOME_FAILURE : OUTCOME_CALL, start);
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

  /** Records one outcome of a call that ran while CLOSED, and trips the breaker if due. */
  private recordClosed(outcome: number, start: number): void {
    let now = 0;
    if (this.timed) {
      now = this.now();
      if (now - start >= this.o.slowCallDurationThreshold) {
        outcome |= OUTCOME_SLOW;
        this.slowCalls++;
      }
    } else if (this.usesTimeWindow) {
      now = this.now();
    }
    const failed = (outcome & OUTCOME_FAILURE) !== 0;
    if (failed) {
      this.failures++;
      this.consecutiveFailures++;
    } else {
      this.successes++;
      this.consecutiveFailures = 0;
    }
    const w = this.window;
    if (w !== null) {
      w.record(outcome | OUTCOME_CALL, now);
      if (w.calls >= this.o.minimumCalls) {
        if (w.failures >= this.o.failureRateThreshold * w.calls) {
          this.trip('failureRate');
          return;
        }
        if (w.slow >= this.o.slowCallRateThreshold * w.calls) {
          this.trip('slowCallRate');
          return;
        }
      }
    }
    if (failed && this.consecutiveFailures >= this.o.failureThreshold) this.trip('failureThreshold');
  }

  private trip(reason: StateChangeReason): void {
    this.transition(OPEN, reason);
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
    return Promise.reject(CircuitBreakerOpenError.fast(this.name, state, retryAfter, isolated, message));
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

  private settleProbe(failed: boolean, start: number): void {
    this.probes--;
    const slow = this.timed && this.now() - start >= this.o.slowCallDurationThreshold;
    if (slow) this.slowCalls++;
    if (failed) {
      this.failures++;
      this.transition(OPEN, 'probeFailure');
      return;
    }
    this.successes++;
    // A slow probe means the dependency has not recovered when slow calls can trip the breaker.
    if (slow && this.o.slowCallRateThreshold <= 1) {
      this.transition(OPEN, 'probeFailure');
      return;
    }
    if (++this.consecutiveSuccesses >= this.o.successThreshold) this.transition(CLOSED, 'probeSuccess');
  }

  /** Opens the breaker by hand until {@link reset}: every call is rejected, no probes run. */
  isolate(): void {
    this.isolatedFlag = true;
    this.transition(OPEN, 'isolate');
  }

  /** Closes the breaker by hand and forgets recorded outcomes (also ends an isolation). */
  reset(): void {
    this.isolatedFlag = false;
    this.transition(CLOSED, 'reset');
  }

  /**
   * Subscribes to state transitions; returns the unsubscribe function.
   *
   * @example
   * ```ts
   * breaker.onStateChange((e) => log.warn({ breaker: e.breaker, from: e.from, to: e.to }, e.reason));
   * ```
   */
  onStateChange(listener: (event: StateChangeEvent) => void): () => void {
    return this.stateListeners.add(listener);
  }

  /** Counters for metrics (a fresh object each call). */
  get metrics(): CircuitBreakerMetrics {
    const w = this.window;
    if (w && this.usesTimeWindow) w.expire(this.now());
    return {
      state: this.state,
      isolated: this.isolatedFlag,
      successes: this.successes,
      failures: this.failures,
      slowCalls: this.slowCalls,
      rejections: this.rejections,
      ignored: this.ignored,
      probeTimeouts: this.probeTimeouts,
      stateChanges: this.stateChanges,
      probesInFlight: this.probes,
      window: {
        calls: w?.calls ?? 0,
        failures: w?.failures ?? 0,
        slowCalls: w?.slow ?? 0,
        failureRate: w && w.calls > 0 ? w.failures / w.calls : 0,
        slowCallRate: w && w.calls > 0 ? w.slow / w.calls : 0,
      },
    };
  }

  /** The breaker's state as JSON-safe data, for {@link restore} after a restart. */
  snapshot(): BreakerSnapshot {
    return {
      version: 1,
      name: this.name,
      state: this._state,
      isolated: this.isolatedFlag,
      openUntil: this._state === OPEN && !this.isolatedFlag ? this.openUntil : null,
      currentTimeout: this.currentTimeout,
      consecutiveFailures: this.consecutiveFailures,
      window: this.window ? this.window.toJSON() : null,
      savedAt: this.now(),
    };
  }

  /**
   * Loads a state saved by {@link snapshot}. A HALF_OPEN breaker is restored HALF_OPEN with no
   * probe in flight. Throws `ValidationError` when `snapshot` is malformed.
   */
  restore(snapshot: unknown): void {
    const s = readSnapshot(snapshot);
    const from = this._state;
    this.gen++;
    this._state = s.state;
    this.isolatedFlag = s.isolated;
    this.openUntil = s.state === OPEN ? (s.isolated ? Number.POSITIVE_INFINITY : (s.openUntil ?? 0)) : 0;
    this.currentTimeout = Math.min(Math.max(s.currentTimeout, this.o.timeout), this.o.maxTimeout);
    this.consecutiveFailures = s.state === CLOSED ? s.consecutiveFailures : 0;
    this.consecutiveSuccesses = 0;
    this.probes = 0;
    this.cancelProbeTimers();
    if (this.window) {
      if (s.window && s.state === CLOSED) this.window.load(s.window);
      else this.window.reset();
    }
    if (from !== s.state) this.emit(from, s.state, 'restore');
  }

  /** Drops listeners and pending probe timers. Use when discarding a breaker (keyed pools do). */
  dispose(): void {
    this.stateListeners.clear();
    this.cancelProbeTimers();
  }

  private cancelProbeTimers(): void {
    for (const t of this.probeTimers) t.cancel();
    this.probeTimers.clear();
  }

  private transition(to: CircuitState, reason: StateChangeReason): void {
    const from = this._state;
    const now = this.now();
    this.gen++;
    this._state = to;
    this.consecutiveSuccesses = 0;
    this.consecutiveFailures = 0;
    this.probes = 0;
    if (to === OPEN) {
      if (from === HALF_OPEN && reason !== 'isolate') {
        this.currentTimeout = Math.min(this.currentTimeout * this.o.timeoutMultiplier, this.o.maxTimeout);
      }
      this.openUntil = this.isolatedFlag ? Number.POSITIVE_INFINITY : now + this.currentTimeout;
      this.window?.reset();
    } else if (to === CLOSED) {
      this.currentTimeout = this.o.timeout;
      this.window?.reset();
    }
    if (from !== to) this.emit(from, to, reason);
  }

  private emit(from: CircuitState, to: CircuitState, reason: StateChangeReason): void {
    this.stateChanges++;
    if (!this.stateListeners.active) return;
    const event: StateChangeEvent = { breaker: this.name, from, to, reason, at: this.now() };
    if (to === OPEN && !this.isolatedFlag) event.openUntil = this.openUntil;
    this.stateListeners.emit(event);
  }
}
