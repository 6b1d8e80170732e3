import type { JetStreamManager } from '@nats-io/jetstream';
import type { Consumer, ConsumerLag, Subscription } from '@trellis/messaging';
import type { JetStreamConsumerLoop } from './jetstream-consumer.js';

/** A subscription of a {@link JetStreamBus}: the consumer loops of one group + pattern. */
export class JetStreamSubscription implements Subscription {
  stopLag: () => void = () => {};
  onClose: () => void = () => {};

  constructor(
    private readonly consumer: Consumer,
    private readonly loops: JetStreamConsumerLoop[],
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
  ) {}

  get group(): string {
    return this.consumer.group;
  }

  get pattern(): string {
    return this.consumer.pattern;
  }

  async lag(): Promise<ConsumerLag> {
    const infos = await Promise.all(this.loops.map((l) => this.jsm.consumers.info(this.stream, l.spec.name)));
    let pending = 0;
    let inFlight = 0;
    for (const i of infos) {
      pending += i.num_pending + i.num_ack_pending;
      inFlight += i.num_ack_pending;
    }
    return { pending, inFlight };
  }

  async close(): Promise<void> {
    this.stopLag();
    this.onClose();
    await Promise.all(this.loops.map((l) => l.close()));
  }

  crash(): void {
    this.stopLag();
    for (const l of this.loops) l.crash();
  }
}
