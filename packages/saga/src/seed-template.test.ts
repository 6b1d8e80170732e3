// The seed's SAGA unit test template (seed/scaling-patterns.md, "Unit Test Template"),
// unchanged except for its imports.
import { describe, expect, it, vi } from 'vitest';
import { OrderSaga } from './examples/order-saga.js';
import { SagaExecutionError } from './index.js';

describe('Scaling Patterns', () => {
  describe('SAGA', () => {
    it('should rollback on failure', async () => {
      const saga = new OrderSaga();
      const compensateSpy = vi.fn();

      saga.steps[1].compensate = compensateSpy;
      saga.steps[2].execute = vi.fn().mockRejectedValue(new Error('fail'));

      await expect(saga.execute({})).rejects.toThrow(SagaExecutionError);
      expect(compensateSpy).toHaveBeenCalled();
    });
  });
});
