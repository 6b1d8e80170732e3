/**
 * The state machine behind {@link CircuitBreaker} (internal): state, counters, sliding
 * window, transitions, events, metrics and save/restore. `CircuitBreaker` adds the call paths
 * on top; both live on one object, so the hot path reads plain fields.
 */
import type { Clock } from '@trellis/core';
import type { CircuitBreakerMetrics, StateChangeEvent, StateChangeReason } from './circuit-breaker-events.js';
import {
  type CircuitBreakerOptions,
  type ResolvedBreakerOptions,
  resolveBreakerOptions,
} from './circuit-breaker-options.js';
import { type BreakerSnapshot, readSnapshot } from './circuit-breaker-snapshot.js';
import { CircuitState } from './circuit-state.js';
import { CircuitBreakerOpenError } from './errors.js';
import { fastNow } from './fast-clock.js';
import { Listeners } from './listeners.js';
import { OUTCOME_CALL, OUTCOME_FAILURE, OUTCOME_SLOW, type OutcomeWindow } from './sliding-window.js';

const { CLOSED, OPEN, HALF_OPEN } = CircuitState;

/** State, counters and transitions of a circuit breaker; see {@link CircuitBreaker}. */
export abstract class BreakerCore {
  // The fields the CLOSED hot path touches come first, so they stay in the object itself.
  protected _state: CircuitState = CLOSED;
  /** True when calls must be timed (slow-call detection). */
  protected readonly timed: boolean;
  /** No window, no timing, no result predicate: a success only resets the failure count. */
  protected readonly simpleSuccess: boolean;
  protected consecutiveFailures = 0;
  protected successes = 0;
  protected ignored = 0;

  protected readonly onResult = (result: unknown): unknown => {
    this.observeResult(result);
    return result;
  };
  protected readonly onError = (error: unknown): never => {
    this.closedError(error, 0);
    throw error;
  };

  /** Records a success seen beside the caller's own handler (the hot path). */
  protected readonly observeResult = (result: unknown): void => {
    // Consecutive-failure counting only (the seed's configuration): a success just resets it.
    if (this.simpleSuccess && this._state === CLOSED) {
      this.successes++;
      this.consecutiveFailures = 0;
    } else {
      this.closedResult(result, 0);
    }
  };

  /** {@link onError} beside the caller's: records the failure; the caller sees the rejection. */
  protected readonly observeError = (error: unknown): void => {
    this.closedError(error, 0);
  };

  /** Name given in the options (`''` when none). */
  readonly name: string;
  protected readonly o: ResolvedBreakerOptions;
  protected readonly clock: Clock;
  /** Cheap time source (see fast-clock.ts). */
  protected readonly now: () => number;
  protected readonly window: OutcomeWindow | null;
  protected readonly usesTimeWindow: boolean;
  /** Bumped on every transition; outcomes of calls started under another generation are ignored. */
  protected gen = 0;
  protected isolatedFlag = false;
  protected consecutiveSuccesses = 0;
  protected probes = 0;
  protected openUntil = 0;
  protected currentTimeout: number;
  /** Rejection messages (half-open, open, isolated), built once. */
  protected readonly messages: readonly [string, string, string];
  protected readonly probeTimers = new Set<{ cancel(): void }>();
  protected readonly stateListeners = new Listeners<StateChangeEvent>();
  protected failures = 0;
  protected slowCalls = 0;
  protected rejections = 0;
  protected probeTimeouts = 0;
  protected stateChanges = 0;

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

  protected closedResult(result: unknown, start: number): void {
    if (this._state !== CLOSED) {
      this.ignored++;
      return;
    }
    this.recordClosed(this.o.isResultFailure?.(result) ? OUTCOME_FAILURE : OUTCOME_CALL, start);
  }

  protected closedError(error: unknown, start: number): void {
    if (this._state !== CLOSED) {
      this.ignored++;
      return;
    }
    const isFailure = this.o.isFailure;
    this.recordClosed(isFailure === undefined || isFailure(error) ? OUTCOME_FAILURE : OUTCOME_CALL, start);
  }

  /** Records one outcome of a call that ran while CLOSED, and trips the breaker if due. */
  protected recordClosed(outcome: number, start: number): void {
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

  protected trip(reason: StateChangeReason): void {
    this.transition(OPEN, reason);
  }

  protected settleProbe(failed: boolean, start: number): void {
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

  protected cancelProbeTimers(): void {
    for (const t of this.probeTimers) t.cancel();
    this.probeTimers.clear();
  }

  protected transition(to: CircuitState, reason: StateChangeReason): void {
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

  protected emit(from: CircuitState, to: CircuitState, reason: StateChangeReason): void {
    this.stateChanges++;
    if (!this.stateListeners.active) return;
    const event: StateChangeEvent = { breaker: this.name, from, to, reason, at: this.now() };
    if (to === OPEN && !this.isolatedFlag) event.openUntil = this.openUntil;
    this.stateListeners.emit(event);
  }
}
