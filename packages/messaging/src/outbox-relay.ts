import { type Clock, isValidationError, systemClock, type TimerHandle } from '@trellis/core';
import { Backoff, type BackoffOptions } from '@trellis/resilience';
import type { Bus } from './bus.js';
import { outsideMessage } from './context.js';
import { type DeadLetterStore, type NewDeadLetter, serializeError } from './dead-letter.js';
import type { OutgoingMessage } from './message.js';
import { type BusObserver, notify } from './observer.js';
import type { OutboxSource } from './outbox.js';
import type { PreparedMessage } from './prepare.js';

function toOutgoing(m: PreparedMessage): OutgoingMessage {
  return {
    id: m.id,
    topic: m.topic,
    payload: JSON.parse(m.payload),
    headers: m.headers,
    publishedAt: m.publishedAt,
    ...(m.key === undefined ? {} : { key: m.key }),
    ...(m.group === undefined ? {} : { group: m.group }),
  };
}

function relayDeadLetter(m: PreparedMessage, error: unknown, now: number): NewDeadLetter {
  return {
    messageId: m.id,
    group: 'outbox-relay',
    pattern: m.topic,
    topic: m.topic,
    key: m.key,
    headers: m.headers,
    payload: JSON.parse(m.payload),
    reason: 'invalid-payload',
    error: serializeError(error),
    attempts: 1,
    publishedAt: m.publishedAt,
    firstAttemptAt: now,
    lastAttemptAt: now,
    transport: 'outbox',
  };
}

/** Options of {@link OutboxRelay}. */
export interface OutboxRelayOptions {
  source: OutboxSource;
  /** Where rows are published (any transport). */
  bus: Pick<Bus, 'publishBatch'>;
  /** Rows per batch (default 200). */
  batchSize?: number;
  /** Poll interval when no wake-up arrives, e.g. rows written by another process (default 1000 ms). */
  pollIntervalMs?: number;
  /** Delay schedule after a failed batch (default 100 ms doubling to 5 s, full jitter). */
  backoff?: BackoffOptions;
  clock?: Clock;
  observer?: BusObserver;
  /** Called with every failed batch's error (the relay keeps going). */
  onError?: (error: unknown) => void;
  /**
   * Where a row goes that the bus rejects as invalid (its payload fails a schema the bus knows
   * but the outbox did not): recorded for group `outbox-relay` and skipped, so one bad row does
   * not block the rows behind it. Without a store such a row stops the relay, reported through
   * `onError` on every attempt.
   */
  deadLetters?: DeadLetterStore;
}

/**
 * Publishes committed outbox rows: woken at once by local commits (and by `NOTIFY` on
 * PostgreSQL), polling as a fallback. A batch is marked sent only after the bus has stored it,
 * so a crash anywhere resends rather than drops (message ids make the resend harmless: the bus
 * or the consumers' inboxes dedupe it). Rows of one key are published in the order written.
 *
 * @example
 * ```ts
 * const relay = new OutboxRelay({ source: outbox.source(), bus }).start();
 * // … on shutdown:
 * await relay.stop();
 * ```
 */
export class OutboxRelay {
  private readonly source: OutboxSource;
  private readonly clock: Clock;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly backoff: Backoff;
  private running = false;
  private loop: Promise<void> | undefined;
  private woken = false;
  private wakeUp: (() => void) | undefined;
  private timer: TimerHandle | undefined;
  private unsubscribe: (() => void) | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** A running relay keeps the process alive (the clock's timers are unref'd). */
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    this.source = options.source;
    this.clock = options.clock ?? systemClock;
    this.batchSize = options.batchSize ?? 200;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.backoff = new Backoff({ initialDelay: 100, maxDelay: 5000, ...options.backoff });
  }

  /** Starts the background loop. Returns `this`. */
  start(): this {
    if (this.running) return this;
    this.running = true;
    this.keepAlive = setInterval(() => {}, 1 << 30);
    this.unsubscribe = this.source.onWake(() => this.wake());
    // The loop must not inherit the caller's async context (a handler's message, a request's
    // trace): it serves every later commit, not this caller.
    this.loop = outsideMessage(() => this.run());
    return this;
  }

  /** Asks the loop to look for rows now (called after local commits). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Relays until no row is left (waits for the loop's current batch first). */
  async flush(): Promise<void> {
    while ((await this.relayOnce()) > 0) {
      // keep going until a batch comes back empty
    }
  }

  /** Unsent rows. */
  backlog(): Promise<number> {
    return this.source.backlog();
  }

  /** Stops the loop after its current batch; rows left stay for the next start. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.keepAlive);
    this.unsubscribe?.();
    this.wake();
    await this.loop;
    this.clearTimer();
    await this.source.close?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.woken = false;
      let relayed = 0;
      try {
        relayed = await this.relayOnce();
        failures = 0;
      } catch (error) {
        failures++;
        this.options.onError?.(error);
        await this.idle(this.backoff.delay(failures, 0, Math.random), false);
        continue;
      }
      if (relayed >= this.batchSize) continue;
      await this.idle(this.pollIntervalMs, true);
    }
  }

  private relayOnce(): Promise<number> {
    const next = this.chain.then(async () => {
      const n = await this.source.relay(this.batchSize, (messages) => this.publish(messages));
      if (n > 0) notify(this.options.observer, 'relayed', { count: n });
      return n;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async publish(messages: PreparedMessage[]): Promise<void> {
    const outgoing = messages.map(toOutgoing);
    try {
      await this.options.bus.publishBatch(outgoing);
    } catch (error) {
      const store = this.options.deadLetters;
      if (!store || !isValidationError(error)) throw error;
      // Find the bad rows one by one; the good ones are published in order (ids dedupe any
      // that the failed batch already stored).
      for (const [i, message] of outgoing.entries()) {
        try {
          await this.options.bus.publishBatch([message]);
        } catch (single) {
          if (!isValidationError(single)) throw single;
          await store.record(relayDeadLetter(messages[i] as PreparedMessage, single, this.clock.now()));
        }
      }
    }
  }

  /** Waits `ms`, or less when woken (if `wakeable`). */
  private idle(ms: number, wakeable: boolean): Promise<void> {
    if (!this.running) return Promise.resolve();
    if (wakeable && this.woken) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.clearTimer();
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = wakeable ? done : () => !this.running && done();
      this.timer = this.clock.setTimeout(done, ms);
    });
  }

  private clearTimer(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
