import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type Clock, systemClock } from '@trellis/core';
import {
  type Bus,
  BusClosedError,
  type BusHealth,
  type BusObserver,
  type Consumer,
  type DeadLetterStore,
  type HeaderProvider,
  type MessageHandler,
  notify,
  type OutgoingMessage,
  type PrepareContext,
  type PreparedMessage,
  type PublishedMessage,
  PublishFailedError,
  type PublishOptions,
  prepareMessage,
  published,
  REPLAY_HEADER,
  resolveConsumer,
  type SubscribeOptions,
  type Subscription,
  startLagReporter,
  type TopicSchemas,
} from '@trellis/messaging';
import { encodeHeaders } from './codec.js';
import { JetStreamConsumerLoop } from './jetstream-consumer.js';
import { JetStreamSubscription } from './jetstream-subscription.js';
import { ensureConsumer, ensureStream } from './setup.js';
import { consumersFor, type SubjectLayout, subjectFor } from './subjects.js';

/** Options of {@link JetStreamBus.connect}. */
export interface JetStreamBusOptions {
  /** NATS server URL(s), e.g. `nats://127.0.0.1:4222` (ignored when `connection` is given). */
  servers?: string | string[];
  /** An open connection to use (the caller keeps owning it). */
  connection?: NatsConnection;
  /** Where dead letters go: a durable store (`SqliteDeadLetterStore`, `PostgresDeadLetterStore`). */
  deadLetters: DeadLetterStore;
  /** Stream name (default `TRELLIS`). */
  stream?: string;
  /** Subject prefix of the stream (default `trellis`). */
  subjectPrefix?: string;
  /**
   * Key partitions (default 16): the unit of per-key ordering. Recorded in the stream when
   * it is created; every publisher and consumer of the stream must use the same value.
   */
  partitions?: number;
  /** How long the stream keeps messages (default 7 days). */
  maxAgeMs?: number;
  /** Size limit of the stream in bytes (default unlimited, -1). */
  maxBytes?: number;
  /** Window in which a resent message id is dropped by the server (default 2 minutes). */
  duplicateWindowMs?: number;
  storage?: 'file' | 'memory';
  replicas?: number;
  clock?: Clock;
  schemas?: TopicSchemas;
  observer?: BusObserver;
  headers?: HeaderProvider;
  /** How often `observer.lag` is called per subscription (default 5000 ms; 0 disables). */
  lagIntervalMs?: number;
  /** Connection name shown by the server's monitoring. */
  name?: string;
}

/**
 * The Bus over NATS JetStream (server 2.9 or later). Trellis creates the stream and the
 * durable pull consumers itself. Delivery is acked after the handler succeeds, NAK'ed with the
 * backoff delay when it fails, and dead-lettered (then acked) after the last attempt; a
 * consumer that crashes leaves its messages unacked, and the server redelivers them after the
 * ack wait (the subscription's `visibilityTimeoutMs`).
 *
 * Per-key order: keyed messages are spread over `partitions` subjects by a hash of the key,
 * and each partition is consumed by a durable consumer with `max_ack_pending = 1`, so at most
 * one message per partition is in flight in the whole group, retries included.
 *
 * @example
 * ```ts
 * const bus = await JetStreamBus.connect({ servers: 'nats://127.0.0.1:4222', deadLetters });
 * await bus.subscribe('order.*', handle, { group: 'billing' });
 * await bus.publish('order.created', { orderId }, { key: orderId });
 * ```
 */
export class JetStreamBus implements Bus {
  readonly transport = 'jetstream';
  readonly deadLetters: DeadLetterStore;
  private readonly clock: Clock;
  private readonly subs = new Set<JetStreamSubscription>();
  private readonly prepareContext: PrepareContext;
  private closed = false;

  private constructor(
    /** The NATS connection (for advanced use and tests). */
    readonly connection: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly layout: SubjectLayout,
    private readonly stream: string,
    private readonly options: JetStreamBusOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.deadLetters = options.deadLetters;
    this.prepareContext = { clock: this.clock, schemas: options.schemas, headers: options.headers };
  }

  /**
   * Connects and ensures the stream exists. Throws `BusConfigurationError` when the stream
   * exists with another partition count, and the connection error when NATS is unreachable.
   */
  static async connect(options: JetStreamBusOptions): Promise<JetStreamBus> {
    const owns = !options.connection;
    const nc =
      options.connection ??
      (await connect({
        servers: options.servers ?? 'nats://127.0.0.1:4222',
        name: options.name ?? 'trellis',
        maxReconnectAttempts: -1,
      }));
    try {
      const jsm = await jetstreamManager(nc);
      const stream = options.stream ?? 'TRELLIS';
      const prefix = options.subjectPrefix ?? 'trellis';
      const partitions = await ensureStream(jsm, {
        name: stream,
        prefix,
        partitions: options.partitions ?? 16,
        maxAgeMs: options.maxAgeMs ?? 7 * 86_400_000,
        maxBytes: options.maxBytes ?? -1,
        duplicateWindowMs: options.duplicateWindowMs ?? 120_000,
        storage: options.storage ?? 'file',
        replicas: options.replicas ?? 1,
      });
      return new JetStreamBus(nc, owns, jetstream(nc), jsm, { prefix, partitions }, stream, options);
    } catch (e) {
      if (owns) await nc.close();
      throw e;
    }
  }

  async publish<P>(topic: string, payload: P, options: PublishOptions = {}): Promise<PublishedMessage> {
    if (this.closed) throw new BusClosedError();
    // The single-message path skips the batch bookkeeping: publish is the hot call.
    const message = { topic, payload, ...options };
    const p = prepareMessage(message, this.prepareContext);
    try {
      await this.send(p, options.id !== undefined);
    } catch (e) {
      throw new PublishFailedError(`JetStream publish failed: ${(e as Error)?.message}`, { cause: e });
    }
    notify(this.options.observer, 'published', { transport: this.transport, topic: p.topic });
    return published(p);
  }

  async publishBatch(messages: readonly OutgoingMessage[]): Promise<PublishedMessage[]> {
    if (this.closed) throw new BusClosedError();
    const prepared = messages.map((m) => prepareMessage(m, this.prepareContext));
    // Sent back to back on one connection, so the stream stores them in this order.
    const acks = prepared.map((p, i) => this.send(p, messages[i]?.id !== undefined));
    const results = await Promise.allSettled(acks);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      throw new PublishFailedError(`JetStream publish failed: ${(failed.reason as Error)?.message}`, {
        cause: failed.reason,
      });
    }
    for (const p of prepared)
      notify(this.options.observer, 'published', { transport: this.transport, topic: p.topic });
    return prepared.map(published);
  }

  /**
   * Publishes one prepared message. A message whose id the caller chose (an outbox row, an
   * event id) may be a resend: the server drops it within its duplicate window (Nats-Msg-Id).
   * Fresh ids cannot repeat, so they skip the server's dedupe bookkeeping.
   */
  private send(p: PreparedMessage, idGiven: boolean): Promise<unknown> {
    const subject = subjectFor(this.layout, p.topic, p.key, p.group);
    const headers = encodeHeaders(p);
    if (!idGiven) return this.js.publish(subject, p.payload, { headers });
    const msgID =
      p.group === undefined ? p.id : `${p.id}:${p.group}:${p.headers[REPLAY_HEADER] ?? p.publishedAt}`;
    return this.js.publish(subject, p.payload, { headers, msgID });
  }

  async subscribe<P = unknown>(
    pattern: string,
    handler: MessageHandler<P>,
    options: SubscribeOptions<P>,
  ): Promise<Subscription> {
    if (this.closed) throw new BusClosedError();
    const consumer = resolveConsumer(pattern, handler, options, {
      transport: this.transport,
      deadLetters: this.deadLetters,
      observer: this.options.observer,
      clock: this.clock,
      schemas: this.options.schemas,
    }) as Consumer;
    const specs = consumersFor(this.layout, consumer.group, pattern);
    const ackWaitMs = consumer.visibilityTimeoutMs;
    await Promise.all(
      specs.map((spec) =>
        ensureConsumer(this.jsm, this.stream, spec, {
          ackWaitMs,
          maxAckPending: spec.kind === 'keyed' ? 1 : Math.max(1000, consumer.concurrency),
          from: spec.kind === 'group' ? 'new' : consumer.from,
        }),
      ),
    );
    const loops = specs.map(
      (spec) =>
        new JetStreamConsumerLoop(this.js, this.stream, spec, consumer, this.layout, this.clock, ackWaitMs),
    );
    const sub = new JetStreamSubscription(consumer, loops, this.jsm, this.stream);
    sub.stopLag = startLagReporter({
      observer: this.options.observer,
      intervalMs: this.options.lagIntervalMs ?? 5000,
      clock: this.clock,
      transport: this.transport,
      group: consumer.group,
      pattern,
      lag: () => sub.lag(),
    });
    for (const l of loops) l.start();
    this.subs.add(sub);
    sub.onClose = () => this.subs.delete(sub);
    return sub;
  }

  async health(): Promise<BusHealth> {
    if (this.closed || this.connection.isClosed())
      return { ok: false, transport: this.transport, detail: 'closed' };
    try {
      await this.jsm.streams.info(this.stream);
      return { ok: true, transport: this.transport };
    } catch (e) {
      return { ok: false, transport: this.transport, detail: (e as Error).message };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subs].map((s) => s.close()));
    if (this.ownsConnection) await this.connection.drain().catch(() => this.connection.close());
  }

  /**
   * Simulates this process dying (for tests): running handlers are abandoned and the
   * connection is dropped without acknowledging anything; the server redelivers after the
   * ack wait.
   */
  async crash(): Promise<void> {
    this.closed = true;
    for (const s of this.subs) s.crash();
    this.subs.clear();
    await this.connection.close();
  }
}
