import type { Clock, TimerHandle } from '@trellis/core';
import type {
  Bus,
  BusHealth,
  ConsumerLag,
  HeaderProvider,
  MessageHandler,
  SubscribeOptions,
  Subscription,
} from './bus.js';
import type { DeadLetterStore } from './dead-letter.js';
import { type Consumer, processDelivery, recordDeadLetter, resolveConsumer } from './delivery.js';
import { BusClosedError } from './errors.js';
import { type ConsumerQueue, type Entry, InMemoryBroker, type QueueMember } from './in-memory-broker.js';
import { startLagReporter } from './lag-reporter.js';
import type { Message, OutgoingMessage, PublishedMessage, PublishOptions } from './message.js';
import { type BusObserver, notify } from './observer.js';
import { type PreparedMessage, prepareMessage, published } from './prepare.js';
import type { TopicSchemas } from './schemas.js';

/** Options of {@link InMemoryBus}. */
export interface InMemoryBusOptions {
  /** Share one broker between several buses to model several processes (default: a new one). */
  broker?: InMemoryBroker;
  clock?: Clock;
  /** Defaults to the broker's in-memory store. */
  deadLetters?: DeadLetterStore;
  schemas?: TopicSchemas;
  observer?: BusObserver;
  headers?: HeaderProvider;
  /** How often `observer.lag` is called per subscription (default 5000 ms; 0 disables). */
  lagIntervalMs?: number;
}

/**
 * The in-memory bus: the full Bus contract (groups, per-key order, leases, retries, dead
 * letters, wildcards) without durability, for unit tests. Payloads take the same JSON round
 * trip as on the durable transports.
 *
 * @example
 * ```ts
 * const bus = new InMemoryBus({ clock: new ManualClock() });
 * await bus.subscribe('order.*', handle, { group: 'billing' });
 * await bus.publish('order.created', { orderId: 'o1' }, { key: 'o1' });
 * ```
 */
export class InMemoryBus implements Bus {
  readonly transport = 'memory';
  readonly broker: InMemoryBroker;
  /** The dead-letter store failed messages go to. */
  readonly deadLetters: DeadLetterStore;
  private readonly clock: Clock;
  private readonly options: InMemoryBusOptions;
  private readonly members = new Set<Member>();
  private closed = false;

  constructor(options: InMemoryBusOptions = {}) {
    this.options = options;
    this.broker = options.broker ?? new InMemoryBroker(options.clock ? { clock: options.clock } : {});
    this.clock = options.clock ?? this.broker.clock;
    this.deadLetters = options.deadLetters ?? this.broker.deadLetters;
    if (!options.deadLetters) this.broker.deadLetters.connect((msgs) => this.publishBatch(msgs));
  }

  async publish<P>(topic: string, payload: P, options: PublishOptions = {}): Promise<PublishedMessage> {
    const [one] = await this.publishBatch([{ topic, payload, ...options }]);
    return one as PublishedMessage;
  }

  async publishBatch(messages: readonly OutgoingMessage[]): Promise<PublishedMessage[]> {
    if (this.closed) throw new BusClosedError();
    const ctx = { clock: this.clock, schemas: this.options.schemas, headers: this.options.headers };
    const prepared: PreparedMessage[] = messages.map((m) => prepareMessage(m, ctx));
    this.broker.append(prepared);
    for (const p of prepared)
      notify(this.options.observer, 'published', { transport: this.transport, topic: p.topic });
    return prepared.map(published);
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
    });
    const queue = this.broker.queue(consumer.group, pattern, consumer.from);
    const member = new Member(consumer as Consumer, queue, this.clock);
    this.members.add(member);
    const stopLag = startLagReporter({
      observer: this.options.observer,
      intervalMs: this.options.lagIntervalMs ?? 5000,
      clock: this.clock,
      transport: this.transport,
      group: consumer.group,
      pattern,
      lag: async () => queue.lag(),
    });
    queue.join(member);
    return {
      group: consumer.group,
      pattern,
      lag: async (): Promise<ConsumerLag> => queue.lag(),
      close: async () => {
        stopLag();
        this.members.delete(member);
        await member.close();
      },
    };
  }

  async health(): Promise<BusHealth> {
    return this.closed
      ? { ok: false, transport: this.transport, detail: 'closed' }
      : { ok: true, transport: this.transport };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.members].map((m) => m.close()));
    this.members.clear();
  }

  /**
   * Simulates this process dying: handlers still running are abandoned (their results are
   * ignored, nothing is acknowledged), so their messages are redelivered to other members
   * once the visibility timeout passes. For tests.
   */
  crash(): void {
    this.closed = true;
    for (const m of this.members) m.crash();
    this.members.clear();
  }
}

/** One subscription's membership in a queue. */
class Member implements QueueMember {
  private inFlight = 0;
  private stopped = false;
  private crashed = false;
  private readonly controller = new AbortController();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly consumer: Consumer,
    private readonly queue: ConsumerQueue,
    private readonly clock: Clock,
  ) {}

  hasCapacity(): boolean {
    return !this.stopped && this.inFlight < this.consumer.concurrency;
  }

  start(entry: Entry): void {
    const now = this.clock.now();
    const vis = this.consumer.visibilityTimeoutMs;
    entry.deliveries++;
    entry.firstAttemptAt ??= now;
    const lease = { owner: this, until: now + vis };
    entry.lease = lease;
    this.inFlight++;
    const run = this.run(entry, lease, now).finally(() => {
      this.running.delete(run);
      this.inFlight--;
      if (!this.crashed) this.queue.dispatch();
    });
    this.running.add(run);
  }

  private async run(entry: Entry, lease: NonNullable<Entry['lease']>, now: number): Promise<void> {
    const vis = this.consumer.visibilityTimeoutMs;
    let heartbeat: TimerHandle | undefined;
    const beat = () => {
      if (this.crashed || entry.lease !== lease) return;
      lease.until = this.clock.now() + vis;
      heartbeat = this.clock.setTimeout(beat, vis / 2);
    };
    heartbeat = this.clock.setTimeout(beat, vis / 2);
    const m = entry.msg;
    const message: Message = {
      id: m.id,
      topic: m.topic,
      key: m.key,
      headers: m.headers,
      payload: JSON.parse(m.payload),
      publishedAt: m.publishedAt,
      deliveredAt: now,
      attempt: entry.deliveries,
    };
    const outcome = await processDelivery(this.consumer, {
      message,
      firstAttemptAt: entry.firstAttemptAt,
      signal: this.controller.signal,
    });
    if (heartbeat) this.clock.clearTimeout(heartbeat);
    // A crashed member acknowledges nothing; a lost lease means another member owns it now.
    if (this.crashed || entry.lease !== lease) return;
    if (outcome.type === 'retry') {
      entry.lease = undefined;
      entry.visibleAt = this.clock.now() + outcome.delayMs;
      return;
    }
    if (outcome.type === 'dead') {
      try {
        await recordDeadLetter(this.consumer, outcome.entry);
      } catch {
        // The store is down: keep the message and try again shortly rather than lose it.
        entry.lease = undefined;
        entry.visibleAt = this.clock.now() + 1000;
        return;
      }
    }
    this.queue.remove(entry);
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.queue.leave(this);
    await Promise.allSettled([...this.running]);
    this.controller.abort(new BusClosedError('Subscription closed'));
  }

  crash(): void {
    this.crashed = true;
    this.stopped = true;
    this.queue.leave(this);
    this.controller.abort(new BusClosedError('Consumer crashed'));
  }
}
