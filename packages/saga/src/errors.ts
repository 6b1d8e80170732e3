/**
 * The typed failures of @trellis/saga. Each extends `TrellisError` with a stable `code` and an
 * HTTP `status`, and has an `isXError` guard that matches the code (so it survives duplicate
 * installs).
 */
import { errorGuard, TrellisError, type TrellisErrorOptions } from '@trellis/core';

/**
 * A step failed and the saga was rolled back: every completed step was compensated, in
 * reverse order. The seed's error, with the seed's constructor `(stepName, cause)`. HTTP 500.
 */
export class SagaExecutionError extends TrellisError {
  /** The step whose failure triggered the compensation. */
  readonly stepName: string;
  /** The saga instance, when run by the durable runner. */
  readonly sagaId: string | undefined;

  constructor(stepName: string, cause?: unknown, sagaId?: string) {
    super('SAGA_EXECUTION_FAILED', `Saga step "${stepName}" failed; completed steps were compensated`, 500, {
      cause,
      details: { step: stepName, ...(sagaId ? { sagaId } : {}), reason: describe(cause) },
    });
    this.stepName = stepName;
    this.sagaId = sagaId;
  }
}
/** Guard for {@link SagaExecutionError} (code `SAGA_EXECUTION_FAILED`). */
export const isSagaExecutionError = errorGuard<SagaExecutionError>('SAGA_EXECUTION_FAILED');

/**
 * The saga ended `failed` and needs attention: a compensation kept failing, a step after the
 * pivot ran out of retries, or a step kept crashing its worker. Nothing is silently half-done:
 * the instance is visible by status, counted, dead-lettered and resumable by an operator.
 * HTTP 500.
 */
export class SagaFailedError extends TrellisError {
  readonly sagaId: string;
  /** The step (or compensation) that could not finish. */
  readonly stepName: string;

  constructor(sagaId: string, stepName: string, reason: string, options: TrellisErrorOptions = {}) {
    super('SAGA_FAILED', `Saga ${sagaId} failed at "${stepName}" and needs attention: ${reason}`, 500, {
      ...options,
      details: options.details ?? { sagaId, step: stepName, reason },
    });
    this.sagaId = sagaId;
    this.stepName = stepName;
  }
}
/** Guard for {@link SagaFailedError} (code `SAGA_FAILED`). */
export const isSagaFailedError = errorGuard<SagaFailedError>('SAGA_FAILED');

/**
 * Thrown by a step to say "this will never succeed: do not retry, compensate now" (a declined
 * card, an unknown product). Without it, a step's errors are retried as its policy allows.
 * HTTP 422.
 *
 * @example
 * ```ts
 * if (!res.ok && res.status === 402) throw new TerminalStepError('card declined');
 * ```
 */
export class TerminalStepError extends TrellisError {
  constructor(message: string, options: TrellisErrorOptions = {}) {
    super('SAGA_STEP_TERMINAL', message, 422, options);
  }
}
/** Guard for {@link TerminalStepError} (code `SAGA_STEP_TERMINAL`). */
export const isTerminalStepError = errorGuard<TerminalStepError>('SAGA_STEP_TERMINAL');

/**
 * A saga id is already taken by a different saga type or a different input (starting is
 * idempotent only for the same request). HTTP 409.
 */
export class SagaConflictError extends TrellisError {
  readonly sagaId: string;

  constructor(sagaId: string, reason: string) {
    super('SAGA_CONFLICT', `Saga id ${sagaId} is already used: ${reason}`, 409, {
      details: { sagaId, reason },
    });
    this.sagaId = sagaId;
  }
}
/** Guard for {@link SagaConflictError} (code `SAGA_CONFLICT`). */
export const isSagaConflictError = errorGuard<SagaConflictError>('SAGA_CONFLICT');

/** No saga instance has this id. HTTP 404. */
export class SagaNotFoundError extends TrellisError {
  readonly sagaId: string;

  constructor(sagaId: string) {
    super('SAGA_NOT_FOUND', `No saga instance ${sagaId}`, 404, { details: { sagaId } });
    this.sagaId = sagaId;
  }
}
/** Guard for {@link SagaNotFoundError} (code `SAGA_NOT_FOUND`). */
export const isSagaNotFoundError = errorGuard<SagaNotFoundError>('SAGA_NOT_FOUND');

/**
 * This worker no longer owns the instance: its lease expired and another worker claimed it,
 * so this worker's checkpoint was refused (fencing). The other worker carries on. HTTP 409.
 */
export class SagaLeaseLostError extends TrellisError {
  readonly sagaId: string;

  constructor(sagaId: string) {
    super('SAGA_LEASE_LOST', `Lost the lease on saga ${sagaId}; another worker owns it now`, 409, {
      details: { sagaId },
    });
    this.sagaId = sagaId;
  }
}
/** Guard for {@link SagaLeaseLostError} (code `SAGA_LEASE_LOST`). */
export const isSagaLeaseLostError = errorGuard<SagaLeaseLostError>('SAGA_LEASE_LOST');

/** A saga definition is invalid (duplicate step names, a step after the pivot without retries…). HTTP 500. */
export class SagaDefinitionError extends TrellisError {
  constructor(message: string) {
    super('SAGA_DEFINITION_INVALID', message, 500);
  }
}
/** Guard for {@link SagaDefinitionError} (code `SAGA_DEFINITION_INVALID`). */
export const isSagaDefinitionError = errorGuard<SagaDefinitionError>('SAGA_DEFINITION_INVALID');

/** An instance names a saga this runner does not know (register its definition). HTTP 500. */
export class SagaNotRegisteredError extends TrellisError {
  readonly sagaName: string;

  constructor(sagaName: string) {
    super('SAGA_NOT_REGISTERED', `No saga definition registered under "${sagaName}"`, 500, {
      details: { saga: sagaName },
    });
    this.sagaName = sagaName;
  }
}
/** Guard for {@link SagaNotRegisteredError} (code `SAGA_NOT_REGISTERED`). */
export const isSagaNotRegisteredError = errorGuard<SagaNotRegisteredError>('SAGA_NOT_REGISTERED');

/** The operation does not fit the instance's state (e.g. resuming a completed saga). HTTP 409. */
export class SagaStateError extends TrellisError {
  constructor(message: string, details?: unknown) {
    super('SAGA_INVALID_STATE', message, 409, { details });
  }
}
/** Guard for {@link SagaStateError} (code `SAGA_INVALID_STATE`). */
export const isSagaStateError = errorGuard<SagaStateError>('SAGA_INVALID_STATE');

function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  return e === undefined ? 'unknown' : String(e);
}
