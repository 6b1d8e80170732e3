/**
 * The message envelope every Trellis bus carries, whatever the transport: an id (the dedupe
 * key for inboxes), a topic, an optional ordering key, headers (trace context, correlation),
 * the payload and timestamps.
 */

/**
 * Message headers. `traceparent`/`tracestate` follow W3C Trace Context; `correlationId` ties
 * every message of one business flow together; `causationId` is the id of the message whose
 * handler published this one. Any other string header travels unchanged.
 */
export interface MessageHeaders {
  traceparent?: string;
  tracestate?: string;
  correlationId?: string;
  causationId?: string;
  [name: string]: string | undefined;
}

/** A message as a handler receives it. */
export interface Message<P = unknown> {
  /** Unique id (UUIDv7 unless the publisher chose one); inboxes dedupe on it. */
  readonly id: string;
  /** Dotted topic, e.g. `order.created`. */
  readonly topic: string;
  /** Ordering key (e.g. the order id): same key, same group → handled in publish order. */
  readonly key: string | undefined;
  readonly headers: Readonly<MessageHeaders>;
  readonly payload: P;
  /** When the message was published (ms since epoch); for outbox rows, when it was written. */
  readonly publishedAt: number;
  /** When this delivery attempt started (ms since epoch). */
  readonly deliveredAt: number;
  /** 1 for the first delivery to this group, 2 for the first redelivery, and so on. */
  readonly attempt: number;
}

/** What a publisher hands to {@link Bus.publishBatch} (and what the outbox stores). */
export interface OutgoingMessage<P = unknown> {
  topic: string;
  payload: P;
  /** Defaults to a fresh UUIDv7. Publishing the same id twice is deduplicated where the transport can. */
  id?: string;
  key?: string;
  headers?: MessageHeaders;
  /** Defaults to now. */
  publishedAt?: number;
  /**
   * Deliver only to this consumer group (used to replay a dead letter to the group that
   * failed it, without re-running every other group).
   */
  group?: string;
}

/** Options of {@link Bus.publish}. */
export interface PublishOptions {
  key?: string;
  headers?: MessageHeaders;
  id?: string;
}

/** What {@link Bus.publish} resolves to: the envelope as it was sent. */
export interface PublishedMessage {
  readonly id: string;
  readonly topic: string;
  readonly key: string | undefined;
  readonly headers: Readonly<MessageHeaders>;
  readonly publishedAt: number;
}

/** Drops undefined header values (they cannot travel over every transport). */
export function cleanHeaders(headers: MessageHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') out[k] = v;
  return out;
}
