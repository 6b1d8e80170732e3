/**
 * What a durable saga run comes to, and the handle a caller holds while it runs.
 */
import { SagaExecutionError, SagaFailedError, SagaStateError } from './errors.js';
import type { SagaInstance, StoredError } from './store.js';

/** The end of a saga: exactly one of these per instance. */
export type SagaResult<O = Record<string, unknown>> =
  | { status: 'completed'; sagaId: string; context: O }
  | {
      status: 'compensated' | 'failed';
      sagaId: string;
      /** The context when it stopped (input plus the results of steps that had completed). */
      context: Record<string, unknown>;
      error: StoredError;
      /** The original error object, when it was thrown in this process. */
      cause?: unknown;
    };

/** A started saga. */
export interface SagaHandle<O = Record<string, unknown>> {
  readonly sagaId: string;
  /** False when a saga with this id already existed: this call started nothing new. */
  readonly created: boolean;
  /**
   * Waits for the terminal state. The instance may finish in another process (after a crash
   * or a lease takeover); then this polls the store.
   */
  result(options?: { signal?: AbortSignal }): Promise<SagaResult<O>>;
}

/** Converts a terminal instance to its result. Throws `SagaStateError` when it is not terminal. */
export function toResult<O>(instance: SagaInstance, cause?: unknown): SagaResult<O> {
  const { status, id: sagaId, context } = instance;
  if (status === 'completed') return { status, sagaId, context: context as O };
  if (status === 'compensated' || status === 'failed') {
    const error = instance.error ?? { message: 'unknown error' };
    return { status, sagaId, context, error, ...(cause === undefined ? {} : { cause }) };
  }
  throw new SagaStateError(`Saga ${sagaId} is still ${status}`, { sagaId, status });
}

/**
 * The seed's contract on top of a result: the final context when completed; otherwise throws
 * `SagaExecutionError(step, cause)` (compensated) or `SagaFailedError` (needs attention).
 */
export function unwrapResult<O>(result: SagaResult<O>): O {
  if (result.status === 'completed') return result.context;
  const step = result.error.step ?? 'unknown';
  const cause = result.cause ?? Object.assign(new Error(result.error.message), result.error);
  if (result.status === 'compensated') throw new SagaExecutionError(step, cause, result.sagaId);
  throw new SagaFailedError(result.sagaId, step, result.error.message, { cause });
}

/** JSON with object keys sorted, so equal values compare equal whatever the key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
