/**
 * Metrics hooks: a small typed observer the service runtime maps to prom-client (counters for
 * started/completed/compensated/failed, a histogram for step latency). Observers are called
 * synchronously and must not throw; if one does, the saga carries on regardless.
 */
import type { TraceContext } from './step.js';

/** Identifies the saga an event is about. */
export interface SagaEventBase {
  /** The saga's registered name (use it as a metric label). */
  saga: string;
  sagaId: string;
  trace: TraceContext;
}

/** A step or compensation finished one run under its policies. */
export interface StepFinishedEvent extends SagaEventBase {
  step: string;
  phase: 'execute' | 'compensate';
  /** `unknown`: timed out, so it may have taken effect. */
  outcome: 'ok' | 'error' | 'unknown';
  attempts: number;
  durationMs: number;
}

/** Hooks called by the runners; implement the ones you need. */
export interface SagaObserver {
  sagaStarted?(event: SagaEventBase): void;
  sagaCompleted?(event: SagaEventBase & { durationMs: number }): void;
  /** Rolled back: `step` failed with `error` and the completed steps were compensated. */
  sagaCompensated?(event: SagaEventBase & { durationMs: number; step: string; error: unknown }): void;
  /** Needs attention: alert on this. */
  sagaFailed?(event: SagaEventBase & { step: string; error: unknown }): void;
  /** Picked up again after a crash (`recovered`) or by an operator (`operator`). */
  sagaResumed?(event: SagaEventBase & { reason: 'recovered' | 'operator'; step: string }): void;
  /** Latency of each step and compensation (all attempts together). */
  stepFinished?(event: StepFinishedEvent): void;
  /** One failed attempt that will be retried. */
  stepRetried?(
    event: SagaEventBase & { step: string; phase: 'execute' | 'compensate'; attempt: number; error: unknown },
  ): void;
  /** Another worker took the instance over (this worker's lease ran out). */
  leaseLost?(event: SagaEventBase): void;
  /** The store failed (database down…); the runner retries, this is for logs and alerts. */
  storeError?(event: { operation: string; sagaId?: string; error: unknown }): void;
}

type Hook = keyof SagaObserver;

/** Calls an observer hook, swallowing whatever it throws (metrics never break a saga). */
export function notify<K extends Hook>(
  observer: SagaObserver | undefined,
  hook: K,
  event: Parameters<NonNullable<SagaObserver[K]>>[0],
): void {
  const fn = observer?.[hook] as ((e: typeof event) => void) | undefined;
  if (!fn) return;
  try {
    fn.call(observer, event);
  } catch {
    // An observer is diagnostics; a throwing one must not change what the saga does.
  }
}

/** One observer that forwards every event to all of `observers`. */
export function combineObservers(...observers: SagaObserver[]): SagaObserver {
  const all = (hook: Hook) => (event: never) => {
    for (const o of observers) notify(o, hook, event);
  };
  const hooks: Hook[] = [
    'sagaStarted',
    'sagaCompleted',
    'sagaCompensated',
    'sagaFailed',
    'sagaResumed',
    'stepFinished',
    'stepRetried',
    'leaseLost',
    'storeError',
  ];
  return Object.fromEntries(hooks.map((h) => [h, all(h)])) as SagaObserver;
}

/** Totals per saga name, and step latency sums: a ready observer for tests and dashboards. */
export class SagaCounters implements SagaObserver {
  readonly started = new Map<string, number>();
  readonly completed = new Map<string, number>();
  readonly compensated = new Map<string, number>();
  readonly failed = new Map<string, number>();
  readonly resumed = new Map<string, number>();
  readonly retries = new Map<string, number>();
  /** Per `saga/step/phase`: how many finished, total and max duration. */
  readonly steps = new Map<string, { count: number; totalMs: number; maxMs: number; errors: number }>();

  sagaStarted(e: SagaEventBase): void {
    bump(this.started, e.saga);
  }
  sagaCompleted(e: SagaEventBase): void {
    bump(this.completed, e.saga);
  }
  sagaCompensated(e: SagaEventBase): void {
    bump(this.compensated, e.saga);
  }
  sagaFailed(e: SagaEventBase): void {
    bump(this.failed, e.saga);
  }
  sagaResumed(e: SagaEventBase): void {
    bump(this.resumed, e.saga);
  }
  stepRetried(e: SagaEventBase & { step: string }): void {
    bump(this.retries, `${e.saga}/${e.step}`);
  }
  stepFinished(e: StepFinishedEvent): void {
    const key = `${e.saga}/${e.step}/${e.phase}`;
    const s = this.steps.get(key) ?? { count: 0, totalMs: 0, maxMs: 0, errors: 0 };
    s.count++;
    s.totalMs += e.durationMs;
    s.maxMs = Math.max(s.maxMs, e.durationMs);
    if (e.outcome !== 'ok') s.errors++;
    this.steps.set(key, s);
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
