/**
 * The seed's orchestration, run in memory (no checkpoints): execute the steps in order,
 * merge each result into the context, and on a failure compensate the completed steps in
 * reverse and throw `SagaExecutionError(stepName, cause)`. Step policies (retry, timeout,
 * pivot) apply exactly as in the durable runner.
 */
import { type Clock, systemClock, uuidv7 } from '@trellis/core';
import { type ContextData, compensationContext, mergeResult, stepContext } from './context.js';
import { pivotIndex, type SagaDefinition, validateDefinition } from './definition.js';
import { SagaExecutionError, SagaFailedError } from './errors.js';
import { notify, type SagaObserver } from './observer.js';
import { idempotencyKeys, type TraceContext } from './step.js';
import { type CompiledStep, compileSteps, runUnderPolicy } from './step-runner.js';

/** Options of an in-memory run. */
export interface InMemoryRunOptions {
  /** Id of this run (part of every idempotency key). Default: a new UUIDv7. */
  id?: string;
  clock?: Clock;
  /** Aborting it stops the run: the current step is aborted and nothing is compensated. */
  signal?: AbortSignal;
  trace?: TraceContext;
  observer?: SagaObserver;
}

/**
 * Runs a saga in memory and returns the final context.
 *
 * Throws `SagaExecutionError` when a step failed and the completed steps were compensated;
 * `SagaFailedError` when a compensation (or a step after the pivot) failed for good.
 */
export async function runInMemory<I extends object, O>(
  def: SagaDefinition<I, O>,
  input: I,
  options: InMemoryRunOptions = {},
): Promise<O> {
  validateDefinition(def);
  const clock = options.clock ?? systemClock;
  const id = options.id ?? uuidv7(clock.now());
  const signal = options.signal ?? new AbortController().signal;
  const trace = options.trace ?? {};
  const base = { saga: def.name, sagaId: id, trace };
  const steps = compileSteps(def.steps, clock);
  const pivot = pivotIndex(def);
  const began = clock.now();
  let data: ContextData = { ...(input as ContextData) };
  notify(options.observer, 'sagaStarted', base);

  for (const compiled of steps) {
    const { step, index } = compiled;
    const keys = idempotencyKeys(id, step.name);
    const outcome = await runUnderPolicy(
      compiled.forward,
      (s, attempt) =>
        step.execute(
          stepContext(data, keys.execute, s, {
            id,
            name: def.name,
            step: step.name,
            phase: 'execute',
            attempt,
            trace,
          }),
        ),
      signal,
      clock,
    );
    let error: unknown = outcome.ok ? undefined : outcome.error;
    if (outcome.ok) {
      try {
        data = mergeResult(data, outcome.value, step.name);
      } catch (e) {
        error = e;
      }
    }
    notify(options.observer, 'stepFinished', {
      ...base,
      step: step.name,
      phase: 'execute',
      outcome: error === undefined ? 'ok' : !outcome.ok && outcome.unknownOutcome ? 'unknown' : 'error',
      attempts: outcome.attempts,
      durationMs: outcome.durationMs,
    });
    if (error === undefined) continue;
    if (!outcome.ok && outcome.abandoned) throw error;
    const unknown = !outcome.ok && outcome.unknownOutcome;
    if (index > pivot && pivot >= 0) return fail(step.name, 'a step after the pivot failed', error);
    if (index === pivot && unknown) return fail(step.name, 'the pivot step timed out', error);
    const from = unknown ? index : index - 1;
    for (let j = from; j >= 0; j--) {
      const undo = steps[j] as CompiledStep;
      if (!undo.step.compensate) continue;
      const failed = await compensate(undo, data);
      if (failed !== undefined) return fail(undo.step.name, 'its compensation failed', failed);
    }
    notify(options.observer, 'sagaCompensated', {
      ...base,
      durationMs: clock.now() - began,
      step: step.name,
      error,
    });
    throw new SagaExecutionError(step.name, error);
  }
  notify(options.observer, 'sagaCompleted', { ...base, durationMs: clock.now() - began });
  return data as O;

  async function compensate(undo: CompiledStep, ctxData: ContextData): Promise<unknown> {
    const name = undo.step.name;
    const keys = idempotencyKeys(id, name);
    const outcome = await runUnderPolicy(
      undo.backward,
      (s, attempt) =>
        undo.step.compensate?.(
          compensationContext(ctxData, keys, s, {
            id,
            name: def.name,
            step: name,
            phase: 'compensate',
            attempt,
            trace,
          }),
        ),
      signal,
      clock,
    );
    notify(options.observer, 'stepFinished', {
      ...base,
      step: name,
      phase: 'compensate',
      outcome: outcome.ok ? 'ok' : 'error',
      attempts: outcome.attempts,
      durationMs: outcome.durationMs,
    });
    return outcome.ok ? undefined : outcome.error;
  }

  function fail(stepName: string, reason: string, cause: unknown): never {
    notify(options.observer, 'sagaFailed', { ...base, step: stepName, error: cause });
    throw new SagaFailedError(id, stepName, reason, { cause });
  }
}
