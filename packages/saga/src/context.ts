/**
 * The saga context: the data steps share (input, then each step's result merged in, as the
 * seed does) and the per-call view a step receives, with its idempotency key, signal and
 * run facts added on top.
 */
import { reservedKeyIn } from './definition.js';
import { TerminalStepError } from './errors.js';
import type { CompensationContext, SagaRunInfo, StepContext } from './step.js';

/** The data part of a saga's context. */
export type ContextData = Record<string, unknown>;

/** The view of the context one call of a step receives. */
export function stepContext(
  data: ContextData,
  idempotencyKey: string,
  signal: AbortSignal,
  saga: SagaRunInfo,
): StepContext<ContextData> {
  return { ...data, idempotencyKey, signal, saga };
}

/** The view one call of a compensation receives. */
export function compensationContext(
  data: ContextData,
  keys: { execute: string; compensate: string },
  signal: AbortSignal,
  saga: SagaRunInfo,
): CompensationContext<ContextData> {
  return { ...data, idempotencyKey: keys.compensate, executeIdempotencyKey: keys.execute, signal, saga };
}

/**
 * Merges a step's result into the context, as the seed's `{ ...context, ...result }` does.
 * Only objects merge (not arrays); `undefined` and other values leave the context as it was.
 *
 * Throws `TerminalStepError` when the result uses a key reserved for the runtime
 * (`idempotencyKey`, `signal`, `saga`…), which would otherwise be silently shadowed.
 */
export function mergeResult(data: ContextData, result: unknown, stepName: string): ContextData {
  if (!isMergeable(result)) return data;
  const reserved = reservedKeyIn(result);
  if (reserved) {
    throw new TerminalStepError(`Step "${stepName}" returned the reserved context key "${reserved}"`);
  }
  return { ...data, ...result };
}

function isMergeable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
