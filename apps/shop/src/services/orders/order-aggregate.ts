/**
 * The shop's `OrderAggregate`, shaped like the seed's: commands validate and raise events,
 * `when` evolves the state, and it loads from its stream (snapshot plus tail; a snapshot
 * every 5 events). Lifecycle: draft → items added → submitted → paid → shipped, or cancelled
 * (from submitted or paid, with the payment refunded first).
 *
 * Commands the saga repeats after a crash (`markPaid`, `markShipped`, `recordRefund`,
 * `cancel`) are idempotent: repeating one with the same facts raises nothing.
 */
import { ConflictError, ValidationError } from '@trellis/core';
import { Aggregate } from '@trellis/eventstore';
import type { Address } from '../../contracts/common.js';
import type { Order, OrderStatus } from '../../contracts/orders.js';
import { OrderStateError } from '../../errors.js';
import type { OrderEvent } from './order-events.js';

/** One priced line. */
export interface OrderLineState {
  productId: string;
  name: string;
  quantity: number;
  unitPriceCents: number;
}

/** The order's state (plain JSON, so it snapshots as is). */
export interface OrderState {
  status: OrderStatus;
  customerId: string | null;
  items: OrderLineState[];
  totalCents: number;
  paymentMethod: string | null;
  shippingAddress: Address | null;
  paymentId: string | null;
  paidCents: number;
  refundedCents: number;
  shipmentId: string | null;
  trackingNumber: string | null;
  cancelReason: string | null;
  cancelCode: string | null;
  /** The customer's cancellation request (absent in snapshots taken before it existed). */
  cancelRequest?: { reason: string; at: string } | null;
  createdAt: string | null;
  updatedAt: string | null;
}

/** The event-sourced order. */
export class OrderAggregate extends Aggregate<OrderEvent> {
  static readonly aggregateType = 'Order';
  static readonly snapshotEvery = 5;
  static readonly snapshotVersion = 1;

  state: OrderState = {
    status: 'draft',
    customerId: null,
    items: [],
    totalCents: 0,
    paymentMethod: null,
    shippingAddress: null,
    paymentId: null,
    paidCents: 0,
    refundedCents: 0,
    shipmentId: null,
    trackingNumber: null,
    cancelReason: null,
    cancelCode: null,
    cancelRequest: null,
    createdAt: null,
    updatedAt: null,
  };

  /** Opens a new order. Throws `ConflictError` when the stream already exists. */
  create(customerId: string, shippingAddress: Address, at: string): void {
    if (this.version > 0) throw new ConflictError(`Order ${this.id} already exists`);
    this.raise('OrderCreated', { customerId, currency: 'EUR', shippingAddress, at });
  }

  /** Adds a priced line to a draft. Throws `ValidationError` (quantity) or `OrderStateError`. */
  addItem(line: OrderLineState, at: string): void {
    if (!Number.isInteger(line.quantity) || line.quantity <= 0) {
      throw new ValidationError('quantity must be a positive integer', [
        { path: 'quantity', message: 'Expected a positive integer' },
      ]);
    }
    this.expect(['draft'], 'add items to');
    this.raise('ItemAdded', { ...line, at });
  }

  /** Submits a draft with items (the seed's `submit`). Throws `OrderStateError` otherwise. */
  submit(paymentMethod: string, at: string): void {
    this.expect(['draft'], 'submit');
    if (this.state.items.length === 0) throw new OrderStateError(this.id, 'empty', 'submit');
    const totalCents = this.state.items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0);
    this.raise('OrderSubmitted', { totalCents, paymentMethod, at });
  }

  /** Records the payment. Idempotent for the same payment. */
  markPaid(paymentId: string, amountCents: number, at: string): void {
    if (this.state.paymentId === paymentId) return;
    this.expect(['submitted'], 'pay');
    this.raise('OrderPaid', { paymentId, amountCents, at });
  }

  /** Records the shipment. Idempotent for the same shipment. */
  markShipped(shipmentId: string, trackingNumber: string | null, at: string): void {
    if (this.state.shipmentId === shipmentId && this.state.status === 'shipped') return;
    this.expect(['paid'], 'ship');
    this.raise('OrderShipped', { shipmentId, trackingNumber, at });
  }

  /** Records a full refund of the payment. Idempotent. */
  recordRefund(paymentId: string, amountCents: number, at: string): void {
    if (this.state.refundedCents > 0) return; // one payment per order, refunded in full once
    this.expect(['paid', 'submitted'], 'refund');
    this.raise('PaymentRefunded', { paymentId, amountCents, at });
  }

  /** Cancels an unshipped order. Idempotent once cancelled. */
  cancel(reason: string, code: string, at: string): void {
    if (this.state.status === 'cancelled') return;
    this.expect(['draft', 'submitted', 'paid'], 'cancel');
    this.raise('OrderCancelled', { reason, code, at });
  }

  /**
   * Records the customer's wish to cancel an order that is still being fulfilled: the
   * place-order saga stops before its next step and compensates. Repeating it, or asking for
   * an order already cancelled, raises nothing. Throws `OrderStateError` once it has shipped.
   */
  requestCancellation(reason: string, at: string): void {
    if (this.state.status === 'cancelled' || this.state.cancelRequest) return;
    this.expect(['submitted', 'paid'], 'cancel');
    this.raise('OrderCancellationRequested', { reason, at });
  }

  /** The API view of the order. */
  toView(): Order {
    const s = this.state;
    return {
      id: this.id,
      customerId: s.customerId ?? '',
      status: s.status,
      items: s.items,
      totalCents: s.totalCents,
      currency: 'EUR',
      shippingAddress: s.shippingAddress,
      paymentId: s.paymentId,
      shipmentId: s.shipmentId,
      trackingNumber: s.trackingNumber,
      cancelReason: s.cancelReason,
      cancelRequestedAt: s.cancelRequest?.at ?? null,
      createdAt: s.createdAt ?? '',
      updatedAt: s.updatedAt ?? '',
      version: this.version,
    };
  }

  protected when(event: OrderEvent): void {
    const s = this.state;
    s.updatedAt = event.payload.at;
    switch (event.eventType) {
      case 'OrderCreated':
        s.customerId = event.payload.customerId;
        s.shippingAddress = event.payload.shippingAddress;
        s.createdAt = event.payload.at;
        break;
      case 'ItemAdded': {
        const { at: _at, ...line } = event.payload;
        s.items.push(line);
        break;
      }
      case 'OrderSubmitted':
        s.status = 'submitted';
        s.totalCents = event.payload.totalCents;
        s.paymentMethod = event.payload.paymentMethod;
        break;
      case 'OrderPaid':
        s.status = 'paid';
        s.paymentId = event.payload.paymentId;
        s.paidCents = event.payload.amountCents;
        break;
      case 'OrderShipped':
        s.status = 'shipped';
        s.shipmentId = event.payload.shipmentId;
        s.trackingNumber = event.payload.trackingNumber;
        break;
      case 'PaymentRefunded':
        s.refundedCents += event.payload.amountCents;
        break;
      case 'OrderCancelled':
        s.status = 'cancelled';
        s.cancelReason = event.payload.reason;
        s.cancelCode = event.payload.code;
        break;
      case 'OrderCancellationRequested':
        s.cancelRequest = { reason: event.payload.reason, at: event.payload.at };
        break;
    }
  }

  private expect(statuses: OrderStatus[], action: string): void {
    if (!statuses.includes(this.state.status)) throw new OrderStateError(this.id, this.state.status, action);
  }
}
