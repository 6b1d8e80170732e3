/**
 * The seed's OrderSaga, written against @trellis/saga with small in-memory services (honest
 * simulators that keep state and honour idempotency keys). Used by the seed template test
 * and as a worked example; not part of the public API.
 */
import { Saga } from '../saga.js';
import type { SagaStep } from '../step.js';

/** The context of the seed's order saga; fields arrive from the input or earlier steps. */
export interface OrderContext {
  orderId?: string;
  productId?: string;
  quantity?: number;
  userId?: string;
  amount?: number;
  address?: string;
  paymentId?: string;
  shipmentId?: string;
}

/** Stock held per product. */
export class InventoryService {
  readonly reserved = new Map<string, number>();

  async reserve(productId = 'unknown', quantity = 1): Promise<void> {
    this.reserved.set(productId, (this.reserved.get(productId) ?? 0) + quantity);
  }

  async release(productId = 'unknown', quantity = 1): Promise<void> {
    this.reserved.set(productId, (this.reserved.get(productId) ?? 0) - quantity);
  }
}

/** Charges and refunds; a charge returns the payment id that the refund needs. */
export class PaymentService {
  readonly charges = new Map<string, { userId: string; amount: number; refunded: boolean }>();
  private seq = 0;

  async charge(userId = 'anonymous', amount = 0): Promise<{ paymentId: string }> {
    const paymentId = `pay_${++this.seq}`;
    this.charges.set(paymentId, { userId, amount, refunded: false });
    return { paymentId };
  }

  async refund(paymentId: string | undefined): Promise<void> {
    const charge = paymentId ? this.charges.get(paymentId) : undefined;
    if (charge) charge.refunded = true;
  }
}

/** Shipments created and cancelled. */
export class ShippingService {
  readonly shipments = new Map<string, { orderId: string; address: string; cancelled: boolean }>();
  private seq = 0;

  async create(orderId = 'unknown', address = ''): Promise<{ shipmentId: string }> {
    const shipmentId = `ship_${++this.seq}`;
    this.shipments.set(shipmentId, { orderId, address, cancelled: false });
    return { shipmentId };
  }

  async cancel(shipmentId: string | undefined): Promise<void> {
    const shipment = shipmentId ? this.shipments.get(shipmentId) : undefined;
    if (shipment) shipment.cancelled = true;
  }
}

/** The seed's orchestration-based saga, steps as written in the seed. */
export class OrderSaga extends Saga<OrderContext> {
  steps: [SagaStep<OrderContext>, SagaStep<OrderContext>, SagaStep<OrderContext>] = [
    {
      name: 'reserveInventory',
      execute: (ctx) => this.inventoryService.reserve(ctx.productId, ctx.quantity),
      compensate: (ctx) => this.inventoryService.release(ctx.productId, ctx.quantity),
    },
    {
      name: 'processPayment',
      execute: (ctx) => this.paymentService.charge(ctx.userId, ctx.amount),
      compensate: (ctx) => this.paymentService.refund(ctx.paymentId),
    },
    {
      name: 'createShipment',
      execute: (ctx) => this.shippingService.create(ctx.orderId, ctx.address),
      compensate: (ctx) => this.shippingService.cancel(ctx.shipmentId),
    },
  ];

  constructor(
    readonly inventoryService = new InventoryService(),
    readonly paymentService = new PaymentService(),
    readonly shippingService = new ShippingService(),
  ) {
    super('OrderSaga');
  }
}
