/**
 * The payments service's HTTP contract: customers save cards as payment methods (the card
 * number never leaves this service), the place-order saga charges and refunds with
 * idempotency keys, and admins steer the card-processor simulator at runtime.
 */
import { endpoint } from '@trellis/service';
import { z } from 'zod';
import { adminOnly, serviceOnly, serviceOrAdmin } from '../platform/identity.js';
import { cents, currency, id } from './common.js';

/** Luhn check of a card number (digits only). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** A card as entered (spaces and dashes allowed in the number). */
export const CardInput = z.object({
  number: z
    .string()
    .transform((s) => s.replace(/[\s-]/g, ''))
    .pipe(
      z
        .string()
        .regex(/^\d{12,19}$/, '12 to 19 digits')
        .refine(luhnValid, 'not a valid card number'),
    ),
  expMonth: z.number().int().min(1).max(12),
  expYear: z.number().int().min(2000).max(2100),
  cvc: z.string().regex(/^\d{3,4}$/, '3 or 4 digits'),
});

/** A saved payment method: only brand and last four digits are ever shown. */
export const PaymentMethod = z.object({
  id,
  brand: z.string(),
  last4: z.string(),
  expMonth: z.number().int(),
  expYear: z.number().int(),
  createdAt: z.string(),
});

/** A charge. */
export const Charge = z.object({
  id,
  key: z.string(),
  orderId: id,
  customerId: id,
  amountCents: cents,
  refundedCents: cents,
  currency,
  status: z.enum(['pending', 'succeeded', 'declined', 'failed', 'voided']),
  brand: z.string().nullable(),
  last4: z.string().nullable(),
  createdAt: z.string(),
});
/** A charge. */
export type Charge = z.output<typeof Charge>;

/** The simulator's knobs. Rates are probabilities per charge. */
export const ProcessorConfig = z.object({
  /** Mean added latency per processor call (ms). */
  latencyMs: z.number().int().min(0).max(60_000),
  /** Uniform jitter added to the latency (ms). */
  jitterMs: z.number().int().min(0).max(60_000),
  /** Share of calls failing with a processor error (nothing charged). */
  errorRate: z.number().min(0).max(1),
  /** Share of valid cards declined anyway (`do_not_honor`). */
  declineRate: z.number().min(0).max(1),
});
/** The simulator's knobs. */
export type ProcessorConfig = z.output<typeof ProcessorConfig>;

/** The payments service's endpoints. */
export const paymentsApi = {
  createPaymentMethod: endpoint({
    method: 'POST',
    path: '/payment-methods',
    summary: 'Save a card; returns a payment method id to order with',
    tags: ['payment-methods'],
    body: z.object({ card: CardInput }),
    response: PaymentMethod,
    status: 201,
    auth: 'authenticated',
  }),
  listPaymentMethods: endpoint({
    method: 'GET',
    path: '/payment-methods',
    summary: 'The caller’s saved payment methods',
    tags: ['payment-methods'],
    response: z.object({ items: z.array(PaymentMethod) }),
    auth: 'authenticated',
  }),
  charge: endpoint({
    method: 'POST',
    path: '/charges',
    summary: 'Charge a payment method (Idempotency-Key required: the charge key)',
    tags: ['charges'],
    body: z.object({
      orderId: id,
      customerId: id,
      amountCents: cents.min(1),
      currency,
      paymentMethod: z.string().min(1).max(100),
    }),
    response: Charge,
    status: 201,
    errors: {
      402: 'Declined',
      409: 'Another charge for this order exists, or this key was voided',
      422: 'Unknown payment method',
      503: 'Processor unavailable or its breaker open',
    },
    auth: serviceOnly,
  }),
  refund: endpoint({
    method: 'POST',
    path: '/refunds',
    summary: 'Refund (or void) the charge made with `chargeKey`; idempotent',
    tags: ['charges'],
    body: z.object({ chargeKey: z.string().min(1).max(255), reason: z.string().max(200).default('') }),
    response: z.object({ charge: Charge.nullable(), refundedCents: cents }),
    errors: { 409: 'The charge is still in progress' },
    auth: serviceOnly,
  }),
  listCharges: endpoint({
    method: 'GET',
    path: '/charges',
    summary: 'Charges, newest first, optionally of one order',
    tags: ['charges'],
    query: z.object({
      orderId: id.optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
    response: z.object({ items: z.array(Charge) }),
    auth: serviceOrAdmin,
  }),
  getProcessor: endpoint({
    method: 'GET',
    path: '/admin/processor',
    summary: 'The simulator’s configuration, its circuit breaker and call counts (admin)',
    tags: ['admin'],
    response: z.object({
      config: ProcessorConfig,
      breaker: z.object({ state: z.string(), failures: z.number(), rejections: z.number() }),
      calls: z.object({ succeeded: z.number(), declined: z.number(), failed: z.number() }),
    }),
    auth: adminOnly,
  }),
  setProcessor: endpoint({
    method: 'PUT',
    path: '/admin/processor',
    summary: 'Change the simulator at runtime (admin): make payments slow, fail or decline',
    tags: ['admin'],
    body: ProcessorConfig.partial(),
    response: z.object({ config: ProcessorConfig }),
    auth: adminOnly,
  }),
};
