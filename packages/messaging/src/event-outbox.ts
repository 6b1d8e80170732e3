import type { MessageHeaders, OutgoingMessage } from './message.js';
import type { Outbox } from './outbox.js';

/**
 * The fields of a stored event the outbox needs. `DomainEvent` from `@trellis/eventstore`
 * satisfies it, so this package does not depend on the event store.
 */
export interface OutboxEvent {
  id: string;
  aggregateId: string;
  aggregateType: string;
  eventType: string;
  payload: unknown;
  timestamp: Date;
  version: number;
  position?: number;
  metadata?: Readonly<Record<string, unknown>>;
}

/** How events become messages. */
export interface EventOutboxOptions<E extends OutboxEvent> {
  /**
   * Topic of an event. Default: the event type when it already is dotted (`order.created`),
   * else `<aggregateType>.<eventType>` (`Order.OrderCreated`).
   */
  topic?: (event: E) => string;
  /** Payload of the message (default: the event's payload). */
  payload?: (event: E) => unknown;
  /** Only events for which this returns true are published (default: all). */
  filter?: (event: E) => boolean;
}

/**
 * An event-store append hook that writes one outbox row per appended event, in the append's
 * own transaction: appended events are published if and only if they commit. The message id
 * is the event id (consumers' inboxes dedupe on it), the key is the aggregate id (per-aggregate
 * order), and correlation, causation and trace context come from the event's metadata.
 *
 * @example
 * ```ts
 * const outbox = await SqliteOutbox.create(db);
 * eventStore.onAppend(outboxAppendHook(outbox));
 * ```
 */
export function outboxAppendHook<Tx, E extends OutboxEvent>(
  outbox: Outbox<Tx>,
  options: EventOutboxOptions<E> = {},
): (tx: Tx, events: readonly E[]) => Promise<void> {
  const topic = options.topic ?? defaultTopic;
  const payload = options.payload ?? ((e: E) => e.payload);
  return async (tx, events) => {
    const chosen = options.filter ? events.filter(options.filter) : events;
    if (chosen.length === 0) return;
    await outbox.enqueue(
      tx,
      chosen.map((e) => eventMessage(e, topic(e), payload(e))),
    );
  };
}

function defaultTopic(event: OutboxEvent): string {
  return event.eventType.includes('.') ? event.eventType : `${event.aggregateType}.${event.eventType}`;
}

function eventMessage(event: OutboxEvent, topic: string, payload: unknown): OutgoingMessage {
  const meta = event.metadata ?? {};
  const headers: MessageHeaders = {
    eventType: event.eventType,
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    version: String(event.version),
  };
  if (event.position !== undefined) headers.position = String(event.position);
  for (const name of ['correlationId', 'causationId', 'traceparent', 'tracestate', 'userId'] as const) {
    const value = meta[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return {
    id: event.id,
    topic,
    key: event.aggregateId,
    payload,
    headers,
    publishedAt: event.timestamp.getTime(),
  };
}
