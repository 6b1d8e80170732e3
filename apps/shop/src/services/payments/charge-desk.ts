/**
 * Charging and refunding against the processor, safely:
 *
 * - the charge row is claimed (pending) before the processor is called, keyed by the
 *   caller's idempotency key; the same key never charges twice, and at most one live charge
 *   per order exists whatever the key;
 * - the processor call runs inside a cooperative timeout and a circuit breaker: a failing or
 *   slow processor opens the breaker and callers get `PROCESSOR_UNAVAILABLE` (503) at once;
 * - an answer lost to a timeout or crash is never guessed: the processor is asked by key;
 * - a refund that finds no charge leaves a `voided` tombstone, so a charge arriving late with
 *   that key is refused instead of taking money for an order already being undone.
 */
import { type Clock, ConflictError } from '@trellis/core';
import {
  CircuitBreaker,
  isCircuitBreakerOpenError,
  isTimeoutError,
  TimeoutPolicy,
  wrap,
} from '@trellis/resilience';
import { ChargeInProgressError, PaymentDeclinedError, ProcessorUnavailableError } from '../../errors.js';
import {
  type CardBehaviour,
  type CardProcessorSimulator,
  type ChargeOutcome,
  isProcessorError,
} from './card-processor.js';
import type { PaymentsStore, StoredCharge } from './payments-store.js';

/** Options of {@link ChargeDesk}. */
export interface ChargeDeskOptions {
  clock: Clock;
  /** Per processor call. Default 3000 ms. */
  timeoutMs?: number;
  /** A pending charge older than this is treated as abandoned (its handler died): a charge takes at most the 3 s processor timeout. Default 15 s. */
  abandonAfterMs?: number;
}

/** The charge and refund flows. */
export class ChargeDesk {
  readonly breaker: CircuitBreaker;
  private readonly policy;
  private readonly abandonAfterMs: number;

  constructor(
    private readonly store: PaymentsStore,
    private readonly processor: CardProcessorSimulator,
    private readonly options: ChargeDeskOptions,
  ) {
    this.breaker = new CircuitBreaker({
      name: 'card-processor',
      failureThreshold: 5,
      timeout: 5000,
      successThreshold: 2,
      halfOpenMaxProbes: 2,
      clock: options.clock,
      // A decline is the processor working; only errors and timeouts count against it.
      isFailure: (e) => isProcessorError(e) || isTimeoutError(e),
    });
    this.policy = wrap(
      this.breaker,
      new TimeoutPolicy(options.timeoutMs ?? 3000, { strategy: 'cooperative', clock: options.clock }),
    );
    this.abandonAfterMs = options.abandonAfterMs ?? 15_000;
  }

  /**
   * Charges an order once per key.
   *
   * Throws `PaymentDeclinedError` (402), `ProcessorUnavailableError` (503, retry with the same
   * key), `ConflictError` when the order already has another charge or the key was voided.
   */
  async charge(input: {
    key: string;
    orderId: string;
    customerId: string;
    amountCents: number;
    method: { brand: string; last4: string; behaviour: CardBehaviour };
  }): Promise<StoredCharge> {
    const { started, charge } = await this.store.beginCharge({
      ...input,
      brand: input.method.brand,
      last4: input.method.last4,
    });
    if (!charge) throw new ConflictError(`Order ${input.orderId} cannot be charged now`);
    if (charge.key !== input.key) {
      throw new ConflictError(`Order ${input.orderId} already has a charge`, {
        details: { chargeId: charge.id },
      });
    }
    if (!started) {
      if (charge.status === 'succeeded') return charge;
      if (charge.status === 'declined') throw new PaymentDeclinedError('card_declined');
      if (charge.status === 'voided')
        throw new ConflictError(`Charge key ${input.key} was voided`, { details: { key: input.key } });
      // Pending: an earlier attempt died or still runs; the processor dedupes by key, so ask it again.
    }
    let outcome: ChargeOutcome;
    try {
      outcome = await this.policy.execute((signal) =>
        this.processor.charge(
          {
            key: input.key,
            orderId: input.orderId,
            amountCents: input.amountCents,
            behaviour: input.method.behaviour,
          },
          signal,
        ),
      );
    } catch (error) {
      // Did it go through before the failure? Ask; never guess.
      const entry = await this.processor.lookup(input.key);
      if (entry) return this.store.settle(input.key, 'succeeded', entry.ref);
      await this.store.settle(input.key, 'failed');
      throw this.unavailable(error);
    }
    if (outcome.status === 'declined') {
      await this.store.settle(input.key, 'declined');
      throw new PaymentDeclinedError(outcome.reason);
    }
    return this.store.settle(input.key, 'succeeded', outcome.ref);
  }

  /**
   * Refunds the charge made with `chargeKey` in full, or voids the key when nothing was
   * charged. Idempotent.
   *
   * Throws `ChargeInProgressError` (409, retry) while that charge is still running, and
   * `ProcessorUnavailableError` (503, retry) when the processor fails.
   */
  async refund(
    chargeKey: string,
    reason: string,
  ): Promise<{ charge: StoredCharge | undefined; refundedCents: number }> {
    let charge = await this.store.chargeByKey(chargeKey);
    if (!charge) {
      // Nothing was charged with this key: leave a tombstone (there is no charge to show).
      if (await this.store.voidKey(chargeKey)) return { charge: undefined, refundedCents: 0 };
      charge = (await this.store.chargeByKey(chargeKey)) as StoredCharge;
    }
    if (charge.status === 'voided' && charge.orderId === '') return { charge: undefined, refundedCents: 0 };
    if (charge.status === 'pending' && this.options.clock.now() - charge.updatedAt < this.abandonAfterMs) {
      throw new ChargeInProgressError(chargeKey);
    }
    if (charge.status === 'pending' || charge.status === 'failed') {
      const entry = await this.processor.lookup(chargeKey);
      charge = await this.store.settle(chargeKey, entry ? 'succeeded' : 'voided', entry?.ref);
    }
    if (charge.status !== 'succeeded' || charge.refundedCents >= charge.amountCents) {
      return { charge, refundedCents: 0 };
    }
    let ref: string;
    try {
      ref = await this.policy.execute((signal) =>
        this.processor.refund(
          { key: `refund:${chargeKey}`, orderId: charge.orderId, amountCents: charge.amountCents },
          signal,
        ),
      );
    } catch (error) {
      throw this.unavailable(error);
    }
    const refunded = await this.store.recordRefund(charge, ref, reason);
    return { charge: refunded, refundedCents: refunded.refundedCents };
  }

  private unavailable(error: unknown): ProcessorUnavailableError {
    if (isCircuitBreakerOpenError(error)) {
      return new ProcessorUnavailableError(
        'Card processor unavailable (circuit open)',
        Math.max(500, error.retryAfterMs),
        { cause: error },
      );
    }
    return new ProcessorUnavailableError(
      isTimeoutError(error) ? 'Card processor timed out' : 'Card processor failed',
      1000,
      { cause: error },
    );
  }
}
