/**
 * Drives one saga instance from its last checkpoint to a terminal state. Every transition is
 * one fenced checkpoint: a step's outcome and the start of the next step commit together, so a
 * three-step saga costs four writes (start + one per step) and nothing runs before the
 * previous outcome is durable. Failed attempts are collected and written with the next
 * checkpoint instead of costing writes of their own.
 */
import type { Clock } from '@trellis/core';
import { type ContextData, compensationContext, mergeResult, stepContext } from './context.js';
import { isSagaLeaseLostError } from './errors.js';
import { notify, type SagaEventBase, type SagaObserver } from './observer.js';
import { idempotencyKeys } from './step.js';
import { type CompiledStep, runUnderPolicy, type StepOutcome } from './step-runner.js';
import {
  type NewSagaEvent,
  type SagaCheckpoint,
  type SagaInstance,
  type SagaStatus,
  type StoredError,
  toStoredError,
} from './store.js';

/** A registered saga, compiled for one runner. */
export interface CompiledSaga {
  readonly name: string;
  readonly steps: readonly CompiledStep[];
  readonly pivot: number;
}

/** What the driver needs from its runner. */
export interface DriverHost {
  readonly clock: Clock;
  readonly observer: SagaObserver | undefined;
  readonly maxRecoveryAttempts: number;
  /** Writes a checkpoint (retrying store outages); false when another worker owns the instance. */
  commit(checkpoint: SagaCheckpoint): Promise<boolean>;
  /** Called once a terminal state is durable. */
  terminated(instance: SagaInstance, cause: unknown): Promise<void> | void;
}

/** How a drive ended. */
export type DriveResult =
  | { kind: 'terminal'; instance: SagaInstance; cause: unknown }
  | { kind: 'abandoned'; reason: 'lease_lost' | 'aborted'; instance: SagaInstance };

/** How the instance came to this driver. */
export type DriveMode = 'started' | 'recovered' | 'operator';

/** Runs `instance` of `saga` until it is terminal, or until this worker must let go of it. */
export async function drive(
  host: DriverHost,
  saga: CompiledSaga,
  start: SagaInstance,
  mode: DriveMode,
  signal: AbortSignal,
): Promise<DriveResult> {
  const { clock } = host;
  let inst = start;
  let pending: NewSagaEvent[] = [];
  let cause: unknown;
  const base = (): SagaEventBase => ({ saga: saga.name, sagaId: inst.id, trace: inst.trace });
  // Attempts continue across crashes: the Nth pick-up of a step starts at attempt N + 1.
  const recoveredAttempt = inst.recoveries + 1;
  const last = saga.steps.length - 1;
  const event = (
    kind: NewSagaEvent['kind'],
    step: string | null,
    extra: Partial<NewSagaEvent> = {},
  ): NewSagaEvent => ({
    at: clock.now(),
    kind,
    step,
    attempt: null,
    durationMs: null,
    error: null,
    note: null,
    ...extra,
  });

  const transition = async (
    status: SagaStatus,
    step: number,
    extra: { context?: ContextData; error?: StoredError | null; resumeStatus?: SagaInstance['resumeStatus'] },
    events: NewSagaEvent[],
  ): Promise<boolean> => {
    const now = clock.now();
    const cp: SagaCheckpoint = {
      id: inst.id,
      expectedVersion: inst.version,
      status,
      step,
      error: extra.error === undefined ? inst.error : extra.error,
      resumeStatus: extra.resumeStatus ?? null,
      recoveries: step === inst.step && status === inst.status ? inst.recoveries : 0,
      updatedAt: now,
      events: [...pending, ...events],
      ...(extra.context ? { context: extra.context } : {}),
    };
    if (!(await host.commit(cp))) return false;
    pending = [];
    inst = {
      ...inst,
      status,
      step,
      error: cp.error,
      resumeStatus: cp.resumeStatus,
      recoveries: cp.recoveries,
      updatedAt: now,
      version: inst.version + 1,
      context: extra.context ?? inst.context,
    };
    return true;
  };

  const fail = (
    step: CompiledStep,
    error: unknown,
    resumeStatus: 'running' | 'compensating',
    why: string,
  ) => {
    cause = error;
    const stored = {
      ...toStoredError(error, step.step.name),
      message: `${why}: ${toStoredError(error).message}`,
    };
    return transition('failed', step.index, { error: stored, resumeStatus }, [
      event('saga_failed', step.step.name, { error: stored }),
    ]);
  };

  /** Starts compensating from `from` (inclusive) downwards, or ends `compensated` if nothing to undo. */
  const rollback = (from: number, error: StoredError, events: NewSagaEvent[]) => {
    const next = nextCompensatable(saga, from);
    if (next < 0)
      return transition('compensated', 0, { error }, [...events, event('saga_compensated', null)]);
    return transition('compensating', next, { error }, [
      ...events,
      event('compensation_started', saga.steps[next]!.step.name),
    ]);
  };

  if (mode !== 'started') {
    const current = saga.steps[Math.min(inst.step, last)]!;
    notify(host.observer, 'sagaResumed', {
      ...base(),
      reason: mode === 'operator' ? 'operator' : 'recovered',
      step: current.step.name,
    });
    if (mode === 'recovered' && inst.recoveries > host.maxRecoveryAttempts) {
      const error = new Error(`picked up ${inst.recoveries} times after its worker vanished (poison step?)`);
      if (
        !(await fail(
          current,
          error,
          inst.status === 'compensating' ? 'compensating' : 'running',
          'kept crashing',
        ))
      ) {
        return abandoned('lease_lost');
      }
    } else if (
      mode === 'recovered' &&
      inst.status === 'running' &&
      current.step.onUnknownOutcome === 'compensate'
    ) {
      const error = {
        message: 'outcome unknown after a crash; compensating by policy',
        step: current.step.name,
      };
      const note = 'compensate';
      if (
        !(await rollback(inst.step, error, [
          event('step_recovered', current.step.name, { note, attempt: recoveredAttempt }),
        ]))
      ) {
        return abandoned('lease_lost');
      }
    } else if (mode === 'recovered') {
      const note = inst.status === 'compensating' ? 'retry compensation' : 'retry';
      pending.push(event('step_recovered', current.step.name, { note, attempt: recoveredAttempt }));
    }
  }

  while (inst.status === 'running' || inst.status === 'compensating') {
    if (signal.aborted) return abandoned(abortReason(signal));
    const forward = inst.status === 'running';
    const compiled = saga.steps[inst.step]!;
    const name = compiled.step.name;
    const keys = idempotencyKeys(inst.id, name);
    const data = inst.context as ContextData;
    const info = { id: inst.id, name: saga.name, step: name, trace: inst.trace };
    const attemptBase = inst.recoveries + 1;
    const outcome: StepOutcome = forward
      ? await runUnderPolicy(
          compiled.forward,
          (s, attempt) =>
            compiled.step.execute(stepContext(data, keys.execute, s, { ...info, phase: 'execute', attempt })),
          signal,
          clock,
          attemptBase,
        )
      : await runUnderPolicy(
          compiled.backward,
          (s, attempt) =>
            compiled.step.compensate?.(
              compensationContext(data, keys, s, { ...info, phase: 'compensate', attempt }),
            ),
          signal,
          clock,
          attemptBase,
        );
    if (!outcome.ok && outcome.abandoned) return abandoned(abortReason(signal));
    let merged: ContextData | undefined;
    let error: unknown = outcome.ok ? undefined : outcome.error;
    if (outcome.ok && forward) {
      try {
        merged = mergeResult(data, outcome.value, name);
        JSON.stringify(merged);
      } catch (e) {
        error = e;
      }
    }
    const phase = forward ? 'execute' : 'compensate';
    const unknown = !outcome.ok && outcome.unknownOutcome;
    const lastAttempt = attemptBase + outcome.attempts - 1;
    for (const f of outcome.failures) {
      const retrying = f.attempt < lastAttempt;
      if (retrying)
        notify(host.observer, 'stepRetried', {
          ...base(),
          step: name,
          phase,
          attempt: f.attempt,
          error: f.error,
        });
      if (!retrying && error !== undefined) continue; // the final failure is recorded below
      pending.push(
        event(forward ? 'step_failed' : 'compensation_failed', name, {
          at: f.at,
          attempt: f.attempt,
          durationMs: f.durationMs,
          error: toStoredError(f.error),
          note: 'retried',
        }),
      );
    }
    notify(host.observer, 'stepFinished', {
      ...base(),
      step: name,
      phase,
      outcome: error === undefined ? 'ok' : unknown ? 'unknown' : 'error',
      attempts: outcome.attempts,
      durationMs: outcome.durationMs,
    });
    const done = { attempt: lastAttempt, durationMs: outcome.durationMs };
    let committed: boolean;
    if (forward && error === undefined) {
      const succeeded = event('step_succeeded', name, done);
      committed =
        inst.step === last
          ? await transition('completed', inst.step, { context: merged! }, [
              succeeded,
              event('saga_completed', null),
            ])
          : await transition('running', inst.step + 1, { context: merged! }, [
              succeeded,
              event('step_started', saga.steps[inst.step + 1]!.step.name, { attempt: 1 }),
            ]);
    } else if (forward) {
      cause = error;
      const stored = toStoredError(error, name);
      const failed = event('step_failed', name, {
        ...done,
        error: stored,
        note: unknown ? 'outcome unknown' : 'final',
      });
      if (saga.pivot >= 0 && inst.step > saga.pivot) {
        pending.push(failed);
        committed = await fail(compiled, error, 'running', 'a step after the pivot gave up');
      } else if (inst.step === saga.pivot && unknown) {
        pending.push(failed);
        committed = await fail(compiled, error, 'running', 'the pivot step timed out (outcome unknown)');
      } else {
        committed = await rollback(unknown ? inst.step : inst.step - 1, stored, [failed]);
      }
    } else if (error === undefined) {
      const next = nextCompensatable(saga, inst.step - 1);
      const compensated = event('step_compensated', name, done);
      committed =
        next < 0
          ? await transition('compensated', inst.step, {}, [compensated, event('saga_compensated', null)])
          : await transition('compensating', next, {}, [compensated]);
    } else {
      const failed = event('compensation_failed', name, {
        ...done,
        error: toStoredError(error),
        note: 'final',
      });
      pending.push(failed);
      committed = await fail(compiled, error, 'compensating', 'compensation failed');
    }
    if (!committed) return abandoned('lease_lost');
  }
  await host.terminated(inst, cause);
  return { kind: 'terminal', instance: inst, cause };

  function abandoned(reason: 'lease_lost' | 'aborted'): DriveResult {
    if (reason === 'lease_lost') notify(host.observer, 'leaseLost', base());
    return { kind: 'abandoned', reason, instance: inst };
  }
}

function abortReason(signal: AbortSignal): 'lease_lost' | 'aborted' {
  return isSagaLeaseLostError(signal.reason) ? 'lease_lost' : 'aborted';
}

/** The highest step index ≤ `from` that has a compensation, or -1. */
export function nextCompensatable(saga: CompiledSaga, from: number): number {
  for (let i = Math.min(from, saga.steps.length - 1); i >= 0; i--) {
    if (saga.steps[i]!.step.compensate) return i;
  }
  return -1;
}
