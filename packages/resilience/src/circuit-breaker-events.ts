/** Events and metrics of a circuit breaker. */
import type { CircuitState } from './circuit-state.js';

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
