import { isConflictError, ManualClock } from '@trellis/core';
import { CircuitState } from '@trellis/resilience';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPaymentDeclinedError, isProcessorUnavailableError } from '../../errors.js';
import { tempSqlite } from '../../testing/temp-sqlite.js';
import { type CardBehaviour, CardProcessorSimulator } from './card-processor.js';
import { ChargeDesk } from './charge-desk.js';
import { PaymentsStore } from './payments-store.js';

let t: ReturnType<typeof tempSqlite>;
let clock: ManualClock;
let store: PaymentsStore;
let processor: CardProcessorSimulator;
let desk: ChargeDesk;
const visa: { brand: string; last4: string; behaviour: CardBehaviour } = {
  brand: 'visa',
  last4: '4242',
  behaviour: 'ok',
};

beforeEach(async () => {
  t = tempSqlite();
  clock = new ManualClock(Date.UTC(2026, 0, 1));
  store = await PaymentsStore.create(t.db, clock);
  processor = await CardProcessorSimulator.create(t.db, { clock, random: () => 0.5 });
  await processor.configure({ latencyMs: 0, jitterMs: 0, errorRate: 0, declineRate: 0 });
  desk = new ChargeDesk(store, processor, { clock });
});
afterEach(async () => {
  desk.breaker.dispose();
  await t.cleanup();
});

const charge = (key: string, orderId = 'o1', method = visa) =>
  desk.charge({ key, orderId, customerId: 'c1', amountCents: 1000, method });
const ledger = () =>
  t.db.query<{ kind: string; amount_cents: number }>('SELECT kind, amount_cents FROM shop_processor_ledger');

describe('ChargeDesk', () => {
  it('charges once per key, and at most once per order', async () => {
    const first = await charge('k1');
    const again = await charge('k1');
    expect(again.id).toBe(first.id);
    expect(first.status).toBe('succeeded');
    await expect(charge('k2')).rejects.toSatisfy(isConflictError);
    expect(await ledger()).toHaveLength(1);
  });

  it('declines a declining card and keeps declining that key without asking again', async () => {
    await expect(charge('k', 'o1', { ...visa, behaviour: 'decline' })).rejects.toSatisfy(
      isPaymentDeclinedError,
    );
    await expect(charge('k', 'o1', { ...visa, behaviour: 'decline' })).rejects.toSatisfy(
      isPaymentDeclinedError,
    );
    expect(processor.calls.declined).toBe(1);
    expect(await ledger()).toHaveLength(0);
  });

  it('opens its breaker after processor errors and then rejects fast; recovers once the processor does', async () => {
    await processor.configure({ errorRate: 1 });
    for (let i = 0; i < 5; i++)
      await expect(charge(`k${i}`, `o${i}`)).rejects.toSatisfy(isProcessorUnavailableError);
    expect(desk.breaker.state).toBe(CircuitState.OPEN);
    await expect(charge('k9', 'o9')).rejects.toSatisfy(isProcessorUnavailableError);
    expect(processor.calls.failed).toBe(5);
    await processor.configure({ errorRate: 0 });
    await clock.advance(5000);
    expect((await charge('k0', 'o0')).status).toBe('succeeded');
    expect((await charge('k1', 'o1')).status).toBe('succeeded');
    expect(desk.breaker.state).toBe(CircuitState.CLOSED);
  });

  it('refunds a charge once, in full', async () => {
    await charge('k');
    const first = await desk.refund('k', 'cancelled');
    const again = await desk.refund('k', 'cancelled');
    expect(first.refundedCents).toBe(1000);
    expect(again.refundedCents).toBe(0);
    expect(again.charge?.refundedCents).toBe(1000);
    expect((await ledger()).map((l) => l.kind).sort()).toEqual(['charge', 'refund']);
  });

  it('voids a key refunded before any charge, so a late charge with it is refused', async () => {
    const voided = await desk.refund('late', 'cancelled');
    expect(voided).toEqual({ charge: undefined, refundedCents: 0 });
    expect(await desk.refund('late', 'again')).toEqual({ charge: undefined, refundedCents: 0 });
    await expect(charge('late')).rejects.toSatisfy(isConflictError);
    expect(await ledger()).toHaveLength(0);
  });

  it('finds out instead of guessing when a charge’s answer was lost', async () => {
    // The processor charged, then the payments process died before recording it.
    await store.beginCharge({
      key: 'lost',
      orderId: 'o1',
      customerId: 'c1',
      amountCents: 1000,
      brand: 'visa',
      last4: '4242',
    });
    await processor.charge({ key: 'lost', orderId: 'o1', amountCents: 1000, behaviour: 'ok' });
    // A refund while the charge may still be running is refused for now…
    await expect(desk.refund('lost', 'x')).rejects.toMatchObject({ code: 'CHARGE_IN_PROGRESS' });
    // …and once it is clearly abandoned, the processor is asked, and the money returned.
    await clock.advance(31_000);
    const refund = await desk.refund('lost', 'x');
    expect(refund.refundedCents).toBe(1000);
    expect((await ledger()).map((l) => l.kind).sort()).toEqual(['charge', 'refund']);
  });

  it('completes a retried charge whose first attempt died after the processor charged', async () => {
    await store.beginCharge({
      key: 'retry',
      orderId: 'o1',
      customerId: 'c1',
      amountCents: 1000,
      brand: 'visa',
      last4: '4242',
    });
    await processor.charge({ key: 'retry', orderId: 'o1', amountCents: 1000, behaviour: 'ok' });
    const charged = await charge('retry');
    expect(charged.status).toBe('succeeded');
    expect(await ledger()).toHaveLength(1);
  });
});
