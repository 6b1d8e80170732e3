/** What a choreography handler (or process manager) can do while it handles one event. */
import type { Message, MessageHeaders, Outbox } from '@trellis/messaging';
import { type EventCatalog, type EventsOf, parseEvent, type TopicOf } from './events.js';

/** Options of {@link ChoreographyContext.publish}. */
export interface EmitOptions {
  /** Ordering key (e.g. the order id): same key, handled in order by every group. */
  key?: string;
  /** A fixed message id (dedupe across retries of a deadline handler, for instance). */
  id?: string;
  headers?: MessageHeaders;
}

/**
 * Passed to every handler. `tx` is the inbox transaction: the handler's own writes, the
 * "processed" mark and every message it publishes commit together, or none of them does.
 */
export interface ChoreographyContext<C extends EventCatalog, Tx> {
  readonly tx: Tx;
  /** The message being handled (id, key, headers, attempt…); absent for deadline handlers. */
  readonly message: Message | undefined;
  /** Aborts when the subscription closes or the delivery's lease is lost. */
  readonly signal: AbortSignal;
  /**
   * Publishes through the outbox, in `tx`: it goes out after commit, with the handled
   * message's correlation id, trace context and causation.
   *
   * Throws `ValidationError` when the payload fails the topic's schema (the transaction then
   * rolls back, and the bus retries or dead-letters the message being handled).
   */
  publish<K extends TopicOf<C>>(topic: K, payload: EventsOf<C>[K], options?: EmitOptions): Promise<void>;
}

/** Builds the context for one handler call. */
export function choreographyContext<C extends EventCatalog, Tx>(
  catalog: C,
  outbox: Outbox<Tx>,
  tx: Tx,
  message: Message | undefined,
  signal: AbortSignal,
): ChoreographyContext<C, Tx> {
  return {
    tx,
    message,
    signal,
    async publish(topic, payload, options = {}) {
      const checked = parseEvent(catalog, topic, payload);
      await outbox.enqueue(tx, [
        {
          topic,
          payload: checked,
          ...(options.key === undefined ? {} : { key: options.key }),
          ...(options.id === undefined ? {} : { id: options.id }),
          ...(options.headers === undefined ? {} : { headers: options.headers }),
        },
      ]);
    },
  };
}
