import type { ConsumerMessages, JetStreamClient, JsMsg, Consumer as NatsConsumer } from '@nats-io/jetstream';
import { type Clock, type TimerHandle, ValidationError } from '@trellis/core';
import {
  BusClosedError,
  type Consumer,
  type Delivery,
  deadLetterEntry,
  type Message,
  type Outcome,
  processDelivery,
  recordDeadLetter,
} from '@trellis/messaging';
import { decodeHeaders } from './codec.js';
import { type ConsumerSpec, type SubjectLayout, topicOf } from './subjects.js';

/**
 * Pulls one durable JetStream consumer and runs its messages through the shared pipeline.
 * Keyed partitions run one message at a time (the server holds the next one back anyway:
 * `max_ack_pending = 1`); unkeyed and addressed messages run up to the subscription's
 * concurrency. Running handlers send `working()` so their ack wait does not expire.
 */
export class JetStreamConsumerLoop {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;
  private crashed = false;
  private readonly running = new Set<Promise<void>>();
  /** Messages whose handlers run now; a single timer keeps all their ack waits alive. */
  private readonly inProgress = new Set<JsMsg>();
  private heartbeat: TimerHandle | undefined;
  private slotWaiters: Array<() => void> = [];
  private readonly firstSeen = new Map<number, number>();
  private readonly controller = new AbortController();

  constructor(
    private readonly js: JetStreamClient,
    private readonly stream: string,
    readonly spec: ConsumerSpec,
    private readonly consumer: Consumer,
    private readonly layout: SubjectLayout,
    private readonly clock: Clock,
    private readonly ackWaitMs: number,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** Stops pulling, waits for running handlers (their outcomes are still sent). */
  async close(): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    for (const wake of this.slotWaiters.splice(0)) wake();
    await this.loop;
    await Promise.allSettled([...this.running]);
    if (this.heartbeat) this.clock.clearTimeout(this.heartbeat);
    this.heartbeat = undefined;
    this.controller.abort(new BusClosedError('Subscription closed'));
  }

  /** Abandons running handlers without acknowledging anything. */
  crash(): void {
    this.crashed = true;
    this.stopped = true;
    this.messages?.stop();
    if (this.heartbeat) this.clock.clearTimeout(this.heartbeat);
    this.heartbeat = undefined;
    this.controller.abort(new BusClosedError('Consumer crashed'));
  }

  private async run(): Promise<void> {
    const serial = this.spec.kind === 'keyed';
    const limit = serial ? 1 : this.consumer.concurrency;
    let failures = 0;
    while (!this.stopped) {
      try {
        const c: NatsConsumer = await this.js.consumers.get(this.stream, this.spec.name);
        if (this.stopped) return;
        this.messages = await c.consume({ max_messages: serial ? 16 : Math.max(limit, 16) });
        for await (const m of this.messages) {
          failures = 0;
          if (this.crashed) return;
          if (serial) {
            await this.handle(m);
            continue;
          }
          while (this.running.size >= limit) {
            await new Promise<void>((r) => this.slotWaiters.push(r));
          }
          const run = this.handle(m).finally(() => {
            this.running.delete(run);
            this.slotWaiters.shift()?.();
          });
          this.running.add(run);
        }
      } catch {
        // Connection trouble or a deleted consumer: back off and pull again unless stopping.
        failures++;
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** failures)));
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    const now = this.clock.now();
    const meta = decodeHeaders(m.headers);
    const seq = m.info.streamSequence;
    const first = this.firstSeen.get(seq) ?? (m.info.deliveryCount === 1 ? now : undefined);
    if (first !== undefined) this.remember(seq, first);
    let payload: unknown;
    let undecodable: unknown;
    try {
      payload = m.json();
    } catch (cause) {
      undecodable = new ValidationError(
        'Invalid payload: not JSON',
        [{ path: '', message: 'body is not JSON' }],
        {
          cause,
        },
      );
      payload = new TextDecoder().decode(m.data);
    }
    const message: Message = {
      id: meta.id ?? `${this.stream}:${seq}`,
      topic: topicOf(this.layout, m.subject),
      key: meta.key,
      headers: meta.headers,
      payload,
      publishedAt: meta.publishedAt ?? Math.floor(m.info.timestampNanos / 1e6),
      deliveredAt: now,
      attempt: m.info.deliveryCount,
    };
    const delivery: Delivery = { message, firstAttemptAt: first, signal: this.controller.signal };
    this.inProgress.add(m);
    this.heartbeat ??= this.clock.setTimeout(() => this.beat(), this.ackWaitMs / 3);
    let outcome: Outcome;
    try {
      outcome =
        undecodable === undefined
          ? await processDelivery(this.consumer, delivery)
          : { type: 'dead', entry: deadLetterEntry(this.consumer, delivery, 'invalid-payload', undecodable) };
    } finally {
      this.inProgress.delete(m);
    }
    if (this.crashed) return;
    await this.settle(m, seq, outcome);
  }

  private async settle(m: JsMsg, seq: number, outcome: Outcome): Promise<void> {
    try {
      if (outcome.type === 'ack') {
        // A keyed partition waits for this ack before the server sends its next message: no delay.
        if (this.spec.kind === 'keyed') m.ack();
        else this.ackSoon(m);
        this.firstSeen.delete(seq);
      } else if (outcome.type === 'retry') {
        m.nak(outcome.delayMs);
      } else {
        try {
          await recordDeadLetter(this.consumer, outcome.entry);
        } catch {
          m.nak(1000); // the store is down: keep the message, try again shortly
          return;
        }
        m.ack();
        this.firstSeen.delete(seq);
      }
    } catch {
      // The connection is gone; the server redelivers after the ack wait.
    }
  }

  private acks: JsMsg[] = [];

  /**
   * Acks go out together once per event-loop turn: the NATS client flushes its socket on the
   * first write of a turn, so acks sent one by one from separate promise chains would cost one
   * socket write each.
   */
  private ackSoon(m: JsMsg): void {
    this.acks.push(m);
    if (this.acks.length > 1) return;
    setImmediate(() => {
      const batch = this.acks;
      this.acks = [];
      if (this.crashed) return;
      for (const a of batch) {
        try {
          a.ack();
        } catch {
          // The connection is gone; the server redelivers after the ack wait.
        }
      }
    });
  }

  /** Tells the server that running handlers are still working, so their ack wait restarts. */
  private beat(): void {
    this.heartbeat = undefined;
    if (this.crashed || this.inProgress.size === 0) return;
    for (const m of this.inProgress) {
      try {
        m.working();
      } catch {
        // The connection is gone; nothing to keep alive.
      }
    }
    this.heartbeat = this.clock.setTimeout(() => this.beat(), this.ackWaitMs / 3);
  }

  private remember(seq: number, at: number): void {
    this.firstSeen.set(seq, at);
    if (this.firstSeen.size > 10_000) {
      const oldest = this.firstSeen.keys().next().value;
      if (oldest !== undefined) this.firstSeen.delete(oldest);
    }
  }
}
