import { describe, expect, it } from 'vitest';
import { isSagaDefinitionError } from './errors.js';
import { OrderSaga } from './examples/order-saga.js';
import { MemorySagaStore } from './memory-store.js';
import { SagaRunner } from './runner.js';

describe('the seed OrderSaga on the durable runner', () => {
  it('runs the same class durably: completed, then compensated with the seed error', async () => {
    const saga = new OrderSaga();
    const runner = new SagaRunner({ store: new MemorySagaStore() });
    const input = {
      orderId: 'o1',
      productId: 'p1',
      quantity: 1,
      userId: 'u1',
      amount: 9,
      address: 'Main St',
    };
    const done = await runner.run(saga, input, { id: 'order-o1' });
    expect(done).toMatchObject({
      status: 'completed',
      context: { paymentId: 'pay_1', shipmentId: 'ship_1' },
    });

    saga.steps[2].execute = () => Promise.reject(new Error('no courier'));
    await expect(runner.execute(saga, { ...input, orderId: 'o2' }, { id: 'order-o2' })).rejects.toMatchObject(
      {
        code: 'SAGA_EXECUTION_FAILED',
        stepName: 'createShipment',
      },
    );
    expect(saga.paymentService.charges.get('pay_2')?.refunded).toBe(true);
    expect((await runner.inspect.get('order-o2')).status).toBe('compensated');
    await runner.close();
  });

  it('refuses a second, different definition under a registered name', async () => {
    const runner = new SagaRunner({ store: new MemorySagaStore() });
    runner.register(new OrderSaga());
    const err = await runner.run(new OrderSaga(), {}).catch((e: unknown) => e);
    expect(isSagaDefinitionError(err)).toBe(true);
    expect((err as Error).message).toMatch(/register one instance and reuse it/);
    await runner.close();
  });
});
