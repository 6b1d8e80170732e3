import { type Clock, systemClock, type TimerHandle } from '@trellis/core';
import { InMemoryDeadLetterStore } from './in-memory-dead-letter-store.js';
import type { PreparedMessage } from './prepare.js';
import { topicMatches } from './topics.js';

/**
 * The shared state behind one or more {@link InMemoryBus} instances: a retained log and one
 * queue per consumer (group + pattern). Several bus instances on one broker behave like
 * several processes on one durable transport, which is how the conformance suite exercises
 * competing consumers and crash redelivery without a server.
 */

/** A message as the broker stores it. */
export interface StoredMessage extends PreparedMessage {
  seq: number;
}

/** One queued delivery of a message to a consumer. */
export interface Entry {
  msg: StoredMessage;
  /** Deliveries started so far (the next attempt number is this + 1). */
  deliveries: number;
  visibleAt: number;
  lease: { owner: object; until: number } | undefined;
  firstAttemptAt: number | undefined;
}

/** A subscriber of a queue (one `subscribe` call on one bus instance). */
export interface QueueMember {
  hasCapacity(): boolean;
  /** Takes the leased entry and runs its handler. */
  start(entry: Entry): void;
}

/** The queue of one consumer (group + pattern), shared by all its members. */
export class ConsumerQueue {
  readonly entries: Entry[] = [];
  private readonly members: QueueMember[] = [];
  private next = 0;
  private dispatching = false;
  private again = false;
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(
    readonly group: string,
    readonly pattern: string,
    private readonly clock: Clock,
  ) {}

  push(msg: StoredMessage): void {
    this.entries.push({ msg, deliveries: 0, visibleAt: 0, lease: undefined, firstAttemptAt: undefined });
    this.dispatch();
  }

  join(member: QueueMember): void {
    this.members.push(member);
    this.dispatch();
  }

  leave(member: QueueMember): void {
    const i = this.members.indexOf(member);
    if (i >= 0) this.members.splice(i, 1);
    if (this.members.length === 0) this.stopTimer();
  }

  /** Hands deliverable entries to members with spare capacity, round robin. */
  dispatch(): void {
    if (this.dispatching) {
      this.again = true; // a member finished synchronously while we were handing out work
      return;
    }
    this.dispatching = true;
    try {
      do {
        this.again = false;
        for (const entry of this.deliverable()) {
          const member = this.pick();
          if (!member) break;
          member.start(entry);
        }
      } while (this.again);
    } finally {
      this.dispatching = false;
    }
  }

  private pick(): QueueMember | undefined {
    for (let i = 0; i < this.members.length; i++) {
      const m = this.members[(this.next + i) % this.members.length] as QueueMember;
      if (m.hasCapacity()) {
        this.next = (this.next + i + 1) % this.members.length;
        return m;
      }
    }
    return undefined;
  }

  remove(entry: Entry): void {
    const i = this.entries.indexOf(entry);
    if (i >= 0) this.entries.splice(i, 1);
  }

  /**
   * Entries that may start now, in order: the earliest entry of each key only (so one key is
   * never handled twice at once, nor out of order across retries), not leased, not backing off.
   */
  *deliverable(): Generator<Entry> {
    const now = this.clock.now();
    const seenKeys = new Set<string>();
    let wake = Number.POSITIVE_INFINITY;
    for (const e of this.entries) {
      const key = e.msg.key;
      if (key !== undefined) {
        if (seenKeys.has(key)) continue;
        seenKeys.add(key);
      }
      if (e.lease) {
        if (e.lease.until > now) {
          wake = Math.min(wake, e.lease.until);
          continue;
        }
        e.lease = undefined; // its member crashed or hung: redeliver
      }
      if (e.visibleAt > now) {
        wake = Math.min(wake, e.visibleAt);
        continue;
      }
      yield e;
    }
    this.wakeAt(wake);
  }

  /** Pending and leased counts. */
  lag(): { pending: number; inFlight: number } {
    const now = this.clock.now();
    return {
      pending: this.entries.length,
      inFlight: this.entries.filter((e) => e.lease && e.lease.until > now).length,
    };
  }

  /** Ensures a timer fires at `at` (retry due, lease expiry) while anyone listens. */
  wakeAt(at: number): void {
    if (this.members.length === 0 || at === Number.POSITIVE_INFINITY || at >= this.timerAt) return;
    this.stopTimer();
    this.timerAt = at;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.dispatch();
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  stopTimer(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }
}

/** Options of {@link InMemoryBroker}. */
export interface InMemoryBrokerOptions {
  clock?: Clock;
  /** Dead-letter store shared by the buses on this broker (default: a new in-memory one). */
  deadLetters?: InMemoryDeadLetterStore;
}

/** Shared in-memory message state; see the module comment. */
export class InMemoryBroker {
  readonly clock: Clock;
  readonly deadLetters: InMemoryDeadLetterStore;
  private readonly log: StoredMessage[] = [];
  private readonly seen = new Set<string>();
  private readonly queues = new Map<string, ConsumerQueue>();
  private seq = 0;

  constructor(options: InMemoryBrokerOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.deadLetters = options.deadLetters ?? new InMemoryDeadLetterStore({ clock: this.clock });
  }

  /** Stores messages and queues them for every matching consumer. Duplicate ids are ignored. */
  append(messages: readonly PreparedMessage[]): void {
    for (const m of messages) {
      if (m.group === undefined) {
        if (this.seen.has(m.id)) continue;
        this.seen.add(m.id);
      }
      const stored: StoredMessage = { ...m, seq: ++this.seq };
      if (m.group === undefined) this.log.push(stored);
      for (const q of this.queues.values()) {
        if (m.group !== undefined && q.group !== m.group) continue;
        if (topicMatches(q.pattern, m.topic)) q.push(stored);
      }
    }
  }

  /** The queue of (group, pattern), created on first use (filled from the log for `all`). */
  queue(group: string, pattern: string, from: 'new' | 'all'): ConsumerQueue {
    const id = `${group}\u0000${pattern}`;
    let q = this.queues.get(id);
    if (!q) {
      q = new ConsumerQueue(group, pattern, this.clock);
      this.queues.set(id, q);
      if (from === 'all') for (const m of this.log) if (topicMatches(pattern, m.topic)) q.push(m);
    }
    return q;
  }
}
