import { isTrellisError, TrellisError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import {
  isSagaConflictError,
  isSagaDefinitionError,
  isSagaExecutionError,
  isSagaFailedError,
  isSagaLeaseLostError,
  isSagaNotFoundError,
  isSagaNotRegisteredError,
  isSagaStateError,
  isTerminalStepError,
  SagaConflictError,
  SagaDefinitionError,
  SagaExecutionError,
  SagaFailedError,
  SagaLeaseLostError,
  SagaNotFoundError,
  SagaNotRegisteredError,
  SagaStateError,
  TerminalStepError,
} from './errors.js';

const cases = [
  [
    new SagaExecutionError('charge', new Error('declined'), 's1'),
    isSagaExecutionError,
    'SAGA_EXECUTION_FAILED',
    500,
  ],
  [new SagaFailedError('s1', 'refund', 'down'), isSagaFailedError, 'SAGA_FAILED', 500],
  [new TerminalStepError('declined'), isTerminalStepError, 'SAGA_STEP_TERMINAL', 422],
  [new SagaConflictError('s1', 'a different input'), isSagaConflictError, 'SAGA_CONFLICT', 409],
  [new SagaNotFoundError('s1'), isSagaNotFoundError, 'SAGA_NOT_FOUND', 404],
  [new SagaLeaseLostError('s1'), isSagaLeaseLostError, 'SAGA_LEASE_LOST', 409],
  [new SagaDefinitionError('bad'), isSagaDefinitionError, 'SAGA_DEFINITION_INVALID', 500],
  [new SagaNotRegisteredError('order'), isSagaNotRegisteredError, 'SAGA_NOT_REGISTERED', 500],
  [new SagaStateError('not failed'), isSagaStateError, 'SAGA_INVALID_STATE', 409],
] as const;

describe('saga errors', () => {
  it.each(cases)('%s has its code, status and guard', (error, guard, code, status) => {
    expect(error).toBeInstanceOf(TrellisError);
    expect(isTrellisError(error)).toBe(true);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(guard(error)).toBe(true);
    for (const [other, otherGuard] of cases) if (other !== error) expect(otherGuard(error)).toBe(false);
    expect(guard(new Error(error.message))).toBe(false);
    expect(guard(undefined)).toBe(false);
  });

  it('guards recognise an error from another copy of the package (same code, no shared prototype)', () => {
    const foreign = new TrellisError('SAGA_EXECUTION_FAILED', 'from elsewhere', 500);
    expect(isSagaExecutionError(foreign)).toBe(true);
  });

  it('SagaExecutionError keeps the seed constructor (stepName, cause) and serialises safely', () => {
    const cause = new Error('declined');
    const e = new SagaExecutionError('processPayment', cause);
    expect(e.stepName).toBe('processPayment');
    expect(e.cause).toBe(cause);
    expect(e.toJSON()).toEqual({
      error: {
        code: 'SAGA_EXECUTION_FAILED',
        message: 'Saga step "processPayment" failed; completed steps were compensated',
        details: { step: 'processPayment', reason: 'declined' },
      },
    });
  });
});
