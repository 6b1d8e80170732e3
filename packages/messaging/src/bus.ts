import type { Backoff, BackoffOptions } from '@trellis/resilience';
import type { ZodType } from 'zod';
import type { DeadLetterStore } from './dead-letter.js';
import type {
  Message,
  MessageHeaders,
  OutgoingMessage,
  PublishedMessage,
  PublishOptions,
} from './message.js';

/**
 * The Bus contract: publish to a topic, subscribe a consumer group to a pattern. Every
 * transport (in-memory, the durable SQLite bus, NATS JetStream) implements it and passes the
 * same conformance suite (`@trellis/messaging/conformance`).
 *
 * Guarantees on every transport:
 * - **At-least-once** delivery to every consumer group; handlers become effectively-once
 *   through an {@link Inbox}.
 * - **Groups**: each group gets every message once (competing consumers inside a group);
 *   different groups get their own copy. A group is durable: messages published while none of
 *   its members runs wait for it.
 * - **Per-key order**: messages with the same `key` are handled one after another, in publish
 *   order, within a group (also across retries); different keys run concurrently.
 * - **Retries** with exponential backoff and jitter, then a **dead letter** with the error.
 */
export interface Bus {
  /** Transport name: `memory`, `sqlite` or `jetstream`. */
  readonly transport: string;

  /**
   * Publishes one message. Resolves once the transport has stored it durably.
   *
   * Throws `ValidationError` when the topic is malformed or the payload fails the topic's
   * registered schema (nothing is published); `BusClosedError` after {@link close}.
   *
   * @example
   * ```ts
   * await bus.publish('order.created', { orderId, total }, { key: orderId });
   * ```
   */
  publish<P>(topic: string, payload: P, options?: PublishOptions): Promise<PublishedMessage>;

  /**
   * Publishes many messages in order (one round trip or transaction where the transport can).
   * The outbox relay uses it. Same errors as {@link publish}; on a throw, a prefix of the batch
   * may have been published (ids make the retry idempotent).
   */
  publishBatch(messages: readonly OutgoingMessage[]): Promise<PublishedMessage[]>;

  /**
   * Subscribes `handler` to every topic matching `pattern` as a member of `options.group`.
   * Resolves once the consumer is registered (messages published after that reach the group).
   *
   * A handler that throws is retried with backoff; after `retry.maxAttempts` the message goes
   * to the dead-letter store. A payload failing `options.schema` (or the topic's registered
   * schema) goes straight to the dead-letter store and never reaches the handler.
   *
   * Throws `ValidationError` when the pattern or group is malformed.
   *
   * @example
   * ```ts
   * await bus.subscribe('order.*', async (msg) => { ... }, { group: 'payments', concurrency: 8 });
   * ```
   */
  subscribe<P = unknown>(
    pattern: string,
    handler: MessageHandler<P>,
    options: SubscribeOptions<P>,
  ): Promise<Subscription>;

  /** Whether the transport is usable right now (for readiness probes). */
  health(): Promise<BusHealth>;

  /**
   * Stops every subscription (waiting for running handlers), then releases the transport.
   * Messages not yet acknowledged are redelivered later, to this or another member.
   */
  close(): Promise<void>;
}

/** Passed to every handler call. */
export interface HandlerContext {
  /** The consumer group this delivery belongs to. */
  readonly group: string;
  /** The subscription's pattern. */
  readonly pattern: string;
  /** Aborted when the subscription closes or the delivery's lease is lost; pass it on. */
  readonly signal: AbortSignal;
}

/** A message handler. Throwing (or rejecting) means "retry later". */
export type MessageHandler<P = unknown> = (message: Message<P>, context: HandlerContext) => unknown;

/**
 * Retry policy of a subscription. The delay schedule is `@trellis/resilience`'s `Backoff`
 * (defaults: 100 ms initial, ×2, capped at 10 s, full jitter).
 */
export interface RetryOptions {
  /** Total delivery attempts including the first (default 5). `1` disables retries. */
  maxAttempts?: number;
  /** Delay schedule between attempts: a `Backoff` or its options. */
  backoff?: Backoff | BackoffOptions;
  /**
   * Errors for which retrying is pointless (default: `ValidationError`s and anything with
   * `retryable === false`). Such a failure is dead-lettered at once.
   */
  isRetryable?: (error: unknown) => boolean;
  /** Source of randomness in [0, 1) for jitter (default `Math.random`). */
  random?: () => number;
}

/** Options of {@link Bus.subscribe}. */
export interface SubscribeOptions<P = unknown> {
  /** Consumer group name (`[A-Za-z0-9_-]+`). Members of one group compete for messages. */
  group: string;
  /** Handlers running at once in this member (default 16). Same-key messages never overlap. */
  concurrency?: number;
  retry?: RetryOptions;
  /** Where failed messages go (default: the bus's dead-letter store). */
  deadLetter?: { store?: DeadLetterStore };
  /** Payload schema; a payload that fails it is dead-lettered without calling the handler. */
  schema?: ZodType<P>;
  /**
   * How long a delivery stays leased to a member before it is redelivered elsewhere, when the
   * member crashes or hangs (default 30 000 ms). Running handlers extend their lease.
   */
  visibilityTimeoutMs?: number;
  /**
   * Where a group that has never existed starts: `new` (default) only sees messages published
   * after it first subscribed; `all` also gets the retained history (replay).
   */
  from?: 'new' | 'all';
}

/** A live subscription. */
export interface Subscription {
  readonly group: string;
  readonly pattern: string;
  /** Messages waiting for this group (not yet acknowledged), where the transport can tell. */
  lag(): Promise<ConsumerLag>;
  /** Stops taking messages and waits for running handlers to finish. */
  close(): Promise<void>;
}

/** Backlog of one consumer group. */
export interface ConsumerLag {
  /** Messages not yet delivered or acknowledged. */
  pending: number;
  /** Of those, currently leased to a member. */
  inFlight: number;
}

/** Result of {@link Bus.health}. */
export interface BusHealth {
  ok: boolean;
  transport: string;
  detail?: string;
}

/** Fills headers at publish time (e.g. the service runtime's active trace context). */
export type HeaderProvider = () => MessageHeaders | undefined;
