/**
 * Runs one step (or one compensation) under its policies — @trellis/resilience's retry,
 * the user's extra policy, then a timeout that aborts through the step's signal — and reports
 * every failed attempt, so the runner can put them on the saga's timeline.
 */
import type { Clock } from '@trellis/core';
import {
  isTimeoutError,
  isTransientError,
  type Policy,
  type RetryOptions,
  retry,
  timeout,
  wrap,
} from '@trellis/resilience';
import { isTerminalStepError } from './errors.js';
import type { SagaStep, StepRetry } from './step.js';

/** A step typed loosely, as the runners handle it. */
export type LooseStep = SagaStep<Record<string, unknown>>;

/** The policies of one step, built once per runner (they capture its clock). */
export interface CompiledStep {
  readonly step: LooseStep;
  readonly index: number;
  /** Undefined when the step has no policy at all (a plain call: the fast path). */
  readonly forward: Policy | undefined;
  readonly backward: Policy | undefined;
}

/** The compensation retry used when a step does not give one: a failing undo is retried. */
export const DEFAULT_COMPENSATION_RETRY: StepRetry = {
  maxAttempts: 5,
  backoff: { initialDelay: 100, maxDelay: 10_000 },
};

/** One failed attempt. */
export interface FailedAttempt {
  attempt: number;
  error: unknown;
  at: number;
  durationMs: number;
}

/** What running a step under its policies came to. */
export type StepOutcome =
  | { ok: true; value: unknown; attempts: number; failures: FailedAttempt[]; durationMs: number }
  | {
      ok: false;
      error: unknown;
      attempts: number;
      failures: FailedAttempt[];
      durationMs: number;
      /** The last attempt timed out: it may have taken effect. */
      unknownOutcome: boolean;
      /** The runner's own signal aborted (lease lost, shutdown): decide nothing. */
      abandoned: boolean;
    };

/** Builds the policies of every step of a saga. */
export function compileSteps(steps: ReadonlyArray<SagaStep<never>>, clock: Clock): CompiledStep[] {
  return (steps as unknown as LooseStep[]).map((step, index) => ({
    step,
    index,
    forward: buildPolicy(step.retry, step.policy, step.timeoutMs, clock),
    backward: step.compensate
      ? buildPolicy(
          step.compensation?.retry ?? DEFAULT_COMPENSATION_RETRY,
          undefined,
          step.compensation?.timeoutMs,
          clock,
        )
      : undefined,
  }));
}

function buildPolicy(
  retryOptions: StepRetry | undefined,
  extra: Policy | undefined,
  timeoutMs: number | undefined,
  clock: Clock,
): Policy | undefined {
  const policies: Policy[] = [];
  if (retryOptions && retryOptions.maxAttempts > 1) {
    const user = retryOptions.isRetryable ?? isTransientError;
    const options: RetryOptions = {
      ...retryOptions,
      clock,
      isRetryable: (error, attempt) => !isTerminalStepError(error) && user(error, attempt),
    };
    policies.push(retry(options));
  }
  if (extra) policies.push(extra);
  // Cooperative: a timed-out step is told to stop and awaited, so its compensation never
  // races a call that is still in flight.
  if (timeoutMs !== undefined) policies.push(timeout(timeoutMs, { clock, strategy: 'cooperative' }));
  if (policies.length === 0) return undefined;
  return policies.length === 1 ? policies[0] : wrap(...policies);
}

/**
 * Calls `call(signal, attempt)` under `policy`. Never throws: failures come back as an
 * outcome. `firstAttempt` continues the count across crashes.
 */
export async function runUnderPolicy(
  policy: Policy | undefined,
  call: (signal: AbortSignal, attempt: number) => unknown,
  signal: AbortSignal,
  clock: Clock,
  firstAttempt = 1,
): Promise<StepOutcome> {
  const failures: FailedAttempt[] = [];
  let attempt = firstAttempt - 1;
  const began = clock.now();
  const once = async (s: AbortSignal) => {
    attempt++;
    const at = clock.now();
    try {
      return await call(s, attempt);
    } catch (error) {
      failures.push({ attempt, error, at, durationMs: clock.now() - at });
      throw error;
    }
  };
  try {
    const value = policy ? await policy.execute(once, signal) : await once(signal);
    return {
      ok: true,
      value,
      attempts: attempt - firstAttempt + 1,
      failures,
      durationMs: clock.now() - began,
    };
  } catch (error) {
    return {
      ok: false,
      error,
      attempts: attempt - firstAttempt + 1,
      failures,
      durationMs: clock.now() - began,
      unknownOutcome: isTimeoutError(error),
      abandoned: signal.aborted,
    };
  }
}
