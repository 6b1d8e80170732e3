/**
 * The shop's invariants as pure functions of the facts read from its databases. Each returns
 * violations naming the invariant, the subject (an order, a product) and what is wrong, so a
 * failed run says exactly where to look.
 */
import { NOTIFIED_EVENTS } from '../services/notifications/notifications-service.js';
import { sagaIdOf } from '../services/orders/place-order-saga.js';
import type { ShopFacts } from './shop-facts.js';

/** Names of the invariants. */
export type InvariantName =
  | 'order-not-lost'
  | 'saga-terminal'
  | 'order-matches-saga'
  | 'read-model-consistent'
  | 'no-double-charge'
  | 'charge-matches-order'
  | 'payments-match-processor'
  | 'stock-conserved'
  | 'reservation-matches-order'
  | 'shipment-matches-order'
  | 'events-delivered'
  | 'outbox-drained'
  | 'no-dead-letters'
  | 'inbox-matches-log'
  | 'dead-letters-accounted';

/** One broken invariant. */
export interface Violation {
  invariant: InvariantName;
  subject: string;
  detail: string;
}

/** Every invariant, in report order, with a one-line description. */
export const INVARIANTS: ReadonlyArray<{ name: InvariantName; description: string }> = [
  { name: 'order-not-lost', description: 'every accepted order exists and was submitted' },
  {
    name: 'saga-terminal',
    description: 'every order has a saga, and every saga is completed, compensated or failed',
  },
  { name: 'order-matches-saga', description: 'completed ⇒ shipped, compensated ⇒ cancelled' },
  {
    name: 'read-model-consistent',
    description: 'the read model shows every order at its current status and version',
  },
  { name: 'no-double-charge', description: 'at most one successful charge per order, at the processor too' },
  {
    name: 'charge-matches-order',
    description: 'shipped ⇒ charged the total; cancelled ⇒ charged nothing (net of refunds)',
  },
  { name: 'payments-match-processor', description: 'what payments recorded is what the processor did' },
  {
    name: 'stock-conserved',
    description: 'initial = available + reserved + shipped, none negative, matching reservations',
  },
  {
    name: 'reservation-matches-order',
    description: 'shipped ⇒ its stock committed; cancelled ⇒ its stock released',
  },
  { name: 'shipment-matches-order', description: 'shipped ⇒ exactly one live shipment; cancelled ⇒ none' },
  { name: 'events-delivered', description: 'every lifecycle event reached the notifications consumer group' },
  { name: 'outbox-drained', description: 'no committed message is stuck in an outbox' },
  { name: 'no-dead-letters', description: 'no message or saga ended in a dead-letter store' },
  {
    name: 'inbox-matches-log',
    description: 'every consumer group handled every logged event once (inbox = log, dead letters aside)',
  },
  {
    name: 'dead-letters-accounted',
    description: 'every dead letter is a logged event its group did not handle, or a failed saga',
  },
];

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * Checks every invariant.
 *
 * @param expectedOrderIds orders the load generator saw accepted (201/202): each must exist.
 */
export function checkFacts(f: ShopFacts, expectedOrderIds: Iterable<string> = []): Violation[] {
  const v: Violation[] = [];
  const add = (invariant: InvariantName, subject: string, detail: string) =>
    v.push({ invariant, subject, detail });

  for (const id of expectedOrderIds) {
    const order = f.orders.get(id);
    if (!order) add('order-not-lost', id, 'accepted by the API but has no events');
    else if (order.state.status === 'draft') add('order-not-lost', id, 'never submitted');
  }

  for (const saga of f.sagas.values()) {
    if (saga.status === 'running' || saga.status === 'compensating')
      add('saga-terminal', saga.id, `still ${saga.status}`);
  }

  for (const order of f.orders.values()) {
    const { id, state } = order;
    const saga = f.sagas.get(sagaIdOf(id));
    if (!saga) add('saga-terminal', id, 'submitted order without a saga');
    if (saga?.status === 'completed' && state.status !== 'shipped')
      add('order-matches-saga', id, `saga completed but order is ${state.status}`);
    if (saga?.status === 'compensated' && state.status !== 'cancelled')
      add('order-matches-saga', id, `saga compensated but order is ${state.status}`);

    const view = f.readModel.get(id);
    if (!view) add('read-model-consistent', id, 'missing from the read model');
    else if (view.status !== state.status || view.version !== order.version) {
      add(
        'read-model-consistent',
        id,
        `read model says ${view.status} v${view.version}, events say ${state.status} v${order.version}`,
      );
    }

    const ledgerCharges = f.ledger.filter((l) => l.orderId === id && l.kind === 'charge');
    const ledgerRefunds = f.ledger.filter((l) => l.orderId === id && l.kind === 'refund');
    const charged = sum(ledgerCharges.map((l) => l.amountCents));
    const refunded = sum(ledgerRefunds.map((l) => l.amountCents));
    const net = charged - refunded;
    if (ledgerCharges.length > 1)
      add('no-double-charge', id, `${ledgerCharges.length} charges at the processor`);
    const succeeded = f.charges.filter((c) => c.orderId === id && c.status === 'succeeded');
    if (succeeded.length > 1) add('no-double-charge', id, `${succeeded.length} successful charges recorded`);
    if (state.status === 'shipped' && net !== state.totalCents)
      add('charge-matches-order', id, `shipped, total ${state.totalCents}, net charged ${net}`);
    if (state.status === 'cancelled' && net !== 0)
      add('charge-matches-order', id, `cancelled but net charged ${net}`);
    const recorded = sum(
      f.charges
        .filter((c) => c.orderId === id && c.status === 'succeeded')
        .map((c) => c.amountCents - c.refundedCents),
    );
    if (recorded !== net)
      add('payments-match-processor', id, `payments records net ${recorded}, processor ledger net ${net}`);

    const reservations = f.reservations.filter((r) => r.orderId === id);
    if (state.status === 'shipped' && !reservations.some((r) => r.status === 'committed')) {
      add('reservation-matches-order', id, 'shipped but its stock was not committed');
    }
    if (state.status === 'cancelled' && reservations.some((r) => r.status !== 'released')) {
      add(
        'reservation-matches-order',
        id,
        `cancelled but a reservation is ${reservations.find((r) => r.status !== 'released')?.status}`,
      );
    }

    const live = f.shipments.filter((s) => s.orderId === id && s.status === 'created');
    if (state.status === 'shipped' && live.length !== 1)
      add('shipment-matches-order', id, `shipped with ${live.length} live shipments`);
    if (state.status === 'cancelled' && live.length > 0)
      add('shipment-matches-order', id, `cancelled with ${live.length} live shipments`);

    for (const e of order.events) {
      if (NOTIFIED_EVENTS[e.type] && !f.notifiedEventIds.has(e.id))
        add('events-delivered', id, `${e.type} ${e.id} not delivered to notifications`);
    }
  }

  for (const s of f.stock) {
    if (s.initial !== s.available + s.reserved + s.shipped) {
      add(
        'stock-conserved',
        s.productId,
        `initial ${s.initial} ≠ available ${s.available} + reserved ${s.reserved} + shipped ${s.shipped}`,
      );
    }
    if (s.available < 0 || s.reserved < 0 || s.shipped < 0)
      add('stock-conserved', s.productId, 'negative stock');
    const held = (status: string) =>
      sum(
        f.reservations
          .filter((r) => r.status === status)
          .flatMap((r) => r.items.filter((i) => i.productId === s.productId).map((i) => i.quantity)),
      );
    if (held('reserved') !== s.reserved)
      add('stock-conserved', s.productId, `reserved ${s.reserved}, reservations hold ${held('reserved')}`);
    if (held('committed') !== s.shipped)
      add(
        'stock-conserved',
        s.productId,
        `shipped ${s.shipped}, committed reservations ${held('committed')}`,
      );
  }

  if (f.outboxBacklog > 0) add('outbox-drained', 'outbox', `${f.outboxBacklog} messages not yet published`);
  for (const d of f.deadLetters) add('no-dead-letters', `${d.service}/${d.group}`, `${d.topic}: ${d.error}`);
  checkDelivery(f, add);
  return v;
}

/**
 * Each consumer group of the order events marks every message it handled in its inbox, in the
 * transaction of its effects: so its inbox must hold exactly the logged event ids — one mark per
 * event (the key makes a second impossible), none missing, none that the log never had — except
 * events parked in that group's dead letters, which are visible and replayable, not lost. A dead
 * letter must itself be accounted for: an event of the log its group did not handle, or a saga
 * that exists.
 */
function checkDelivery(
  f: ShopFacts,
  add: (invariant: InvariantName, subject: string, detail: string) => void,
): void {
  const logged = new Map<string, string>();
  for (const order of f.orders.values()) for (const e of order.events) logged.set(e.id, order.id);
  for (const [group, handled] of f.inbox) {
    const parked = new Set(f.deadLetters.filter((d) => d.group === group).map((d) => d.messageId));
    const missing = [...logged].filter(([id]) => !handled.has(id) && !parked.has(id));
    for (const [id, orderId] of missing.slice(0, 20))
      add('inbox-matches-log', orderId, `event ${id} not handled by ${group}`);
    if (missing.length > 20)
      add('inbox-matches-log', group, `${missing.length - 20} more events not handled by ${group}`);
    const unknown = [...handled].filter((id) => !logged.has(id));
    if (unknown.length > 0)
      add(
        'inbox-matches-log',
        group,
        `${unknown.length} handled messages are not in the log (${unknown[0]}…)`,
      );
  }
  for (const d of f.deadLetters) {
    const subject = `${d.service}/${d.group}`;
    if (d.group.startsWith('saga-')) {
      const sagaId = d.messageId.replace(/@\d+$/, '');
      if (!f.sagas.has(sagaId))
        add('dead-letters-accounted', subject, `dead letter of unknown saga ${sagaId}`);
    } else if (!logged.has(d.messageId)) {
      add(
        'dead-letters-accounted',
        subject,
        `dead letter of message ${d.messageId}, which is not in the log`,
      );
    } else if (f.inbox.get(d.group)?.has(d.messageId)) {
      add('dead-letters-accounted', subject, `message ${d.messageId} is dead-lettered but was handled`);
    }
  }
}
