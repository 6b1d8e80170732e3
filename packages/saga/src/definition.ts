/**
 * A saga definition is what the durable runner needs: a stable name, the ordered steps and,
 * optionally, a schema for its input. The builder ({@link defineSaga}) and the seed-style
 * class ({@link Saga}) both produce one.
 */
import type { ZodType } from 'zod';
import { SagaDefinitionError } from './errors.js';
import { RESERVED_CONTEXT_KEYS, type SagaStep } from './step.js';

/**
 * A saga: `name` identifies it in storage (never rename a saga with live instances), `steps`
 * run in order. `I` is the input type, `O` the context after the last step.
 */
export interface SagaDefinition<I extends object = Record<string, unknown>, O = I> {
  readonly name: string;
  // Steps see a context that grows from step to step; storage and the runner treat each one
  // with the loosest type, so the list is typed loosely here and precisely in the builder.
  readonly steps: ReadonlyArray<SagaStep<never>>;
  /** Validates the input at `start` (bad input: `ValidationError`, nothing written). */
  readonly input?: ZodType<I>;
  /** Phantom: the type of the final context. */
  readonly __output?: O;
}

/** Input type of a definition. */
export type SagaInput<D> = D extends { readonly input?: ZodType<infer I> } ? I : never;
/** Final context type of a definition. */
export type SagaOutput<D> = D extends { readonly __output?: infer O } ? O : never;

/** Index of the pivot step, or -1 when the saga has none. */
export function pivotIndex(def: SagaDefinition<object, unknown>): number {
  return def.steps.findIndex((s) => s.pivot === true);
}

/**
 * Checks a definition once, before anything runs.
 *
 * Throws `SagaDefinitionError` when the name is empty, there are no steps, step names repeat,
 * more than one step is the pivot, the pivot has a compensation, or a step after the pivot has
 * no retry policy, a compensation, or asks to compensate on an unknown outcome.
 */
export function validateDefinition(def: SagaDefinition<object, unknown>): void {
  if (typeof def.name !== 'string' || def.name.trim() === '') {
    throw new SagaDefinitionError('A saga needs a non-empty name');
  }
  if (!Array.isArray(def.steps) || def.steps.length === 0) {
    throw new SagaDefinitionError(`Saga "${def.name}" has no steps`);
  }
  const seen = new Set<string>();
  for (const step of def.steps) {
    if (!step || typeof step.name !== 'string' || step.name === '') {
      throw new SagaDefinitionError(`Saga "${def.name}" has a step without a name`);
    }
    if (seen.has(step.name)) throw new SagaDefinitionError(`Saga "${def.name}" repeats step "${step.name}"`);
    seen.add(step.name);
    if (typeof step.execute !== 'function') {
      throw new SagaDefinitionError(`Step "${step.name}" of saga "${def.name}" has no execute function`);
    }
    const attempts = step.retry?.maxAttempts;
    if (attempts !== undefined && !(attempts >= 1)) {
      throw new SagaDefinitionError(`Step "${step.name}": retry.maxAttempts must be at least 1`);
    }
  }
  const pivots = def.steps.filter((s) => s.pivot === true);
  if (pivots.length > 1) throw new SagaDefinitionError(`Saga "${def.name}" has more than one pivot step`);
  const at = pivotIndex(def);
  if (at < 0) return;
  const pivot = def.steps[at]!;
  if (pivot.compensate) {
    throw new SagaDefinitionError(`Pivot step "${pivot.name}" cannot have a compensation`);
  }
  if (pivot.onUnknownOutcome === 'compensate') {
    throw new SagaDefinitionError(`Pivot step "${pivot.name}" must retry on an unknown outcome`);
  }
  for (const step of def.steps.slice(at + 1)) {
    if (!step.retry) {
      throw new SagaDefinitionError(`Step "${step.name}" comes after the pivot, so it needs a retry policy`);
    }
    if (step.compensate || step.onUnknownOutcome === 'compensate') {
      throw new SagaDefinitionError(`Step "${step.name}" comes after the pivot and cannot be compensated`);
    }
  }
}

/** Throws a `ValidationError`-ready message when a context object uses a reserved key. */
export function reservedKeyIn(value: object): string | undefined {
  for (const key of RESERVED_CONTEXT_KEYS) if (Object.hasOwn(value, key)) return key;
  return undefined;
}
