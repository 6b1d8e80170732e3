import { type Clock, systemClock, uuidv7 } from '@trellis/core';
import {
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterPage,
  type DeadLetterStore,
  type NewDeadLetter,
  REPLAY_HEADER,
} from './dead-letter.js';
import type { OutgoingMessage } from './message.js';
import type { PreparedMessage } from './prepare.js';
import { topicMatches } from './topics.js';

/** True when `dl` satisfies every field of `filter`. */
export function matchesDeadLetterFilter(dl: DeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.ids && !filter.ids.includes(dl.id)) return false;
  if (filter.group !== undefined && dl.group !== filter.group) return false;
  if (filter.topic !== undefined && !topicMatches(filter.topic, dl.topic)) return false;
  if (filter.key !== undefined && dl.key !== filter.key) return false;
  if (filter.reason !== undefined && dl.reason !== filter.reason) return false;
  if (filter.errorCode !== undefined && dl.error.code !== filter.errorCode) return false;
  if (filter.since !== undefined && dl.deadLetteredAt < filter.since) return false;
  if (filter.until !== undefined && dl.deadLetteredAt >= filter.until) return false;
  return true;
}

/** The message that replays `dl`: same id, payload and headers, addressed to its group only. */
export function replayMessage(dl: DeadLetter): OutgoingMessage {
  const message: OutgoingMessage = {
    id: dl.messageId,
    topic: dl.topic,
    payload: dl.payload,
    headers: { ...dl.headers, [REPLAY_HEADER]: dl.id },
    publishedAt: dl.publishedAt,
    group: dl.group,
  };
  if (dl.key !== undefined) message.key = dl.key;
  return message;
}

/** {@link replayMessage} as a prepared message (payload as JSON), for SQL redelivery. */
export function replayPrepared(dl: DeadLetter): PreparedMessage {
  return {
    id: dl.messageId,
    topic: dl.topic,
    key: dl.key,
    headers: { ...dl.headers, [REPLAY_HEADER]: dl.id },
    payload: JSON.stringify(dl.payload) ?? 'null',
    publishedAt: dl.publishedAt,
    group: dl.group,
  };
}

/** Options of {@link InMemoryDeadLetterStore}. */
export interface InMemoryDeadLetterStoreOptions {
  /** Publishes replayed messages (the in-memory bus wires its own `publishBatch`). */
  redeliver?: (messages: OutgoingMessage[]) => Promise<unknown>;
  clock?: Clock;
}

/**
 * Dead letters in memory, for tests and the in-memory bus.
 *
 * @example
 * ```ts
 * const bus = new InMemoryBus();
 * const failed = await bus.deadLetters.list({ group: 'payments' });
 * await bus.deadLetters.replay({ ids: [failed[0].id] });
 * ```
 */
export class InMemoryDeadLetterStore implements DeadLetterStore {
  private readonly entries = new Map<string, DeadLetter>();
  private redeliver: ((messages: OutgoingMessage[]) => Promise<unknown>) | undefined;
  private readonly clock: Clock;

  constructor(options: InMemoryDeadLetterStoreOptions = {}) {
    this.redeliver = options.redeliver;
    this.clock = options.clock ?? systemClock;
  }

  /** Sets where replays go, when the bus is created after the store. */
  connect(redeliver: (messages: OutgoingMessage[]) => Promise<unknown>): void {
    this.redeliver = redeliver;
  }

  async record(entry: NewDeadLetter): Promise<DeadLetter> {
    for (const dl of this.entries.values()) {
      if (dl.group === entry.group && dl.messageId === entry.messageId) return structuredClone(dl);
    }
    const now = this.clock.now();
    const dl: DeadLetter = { ...structuredClone(entry), id: uuidv7(now), deadLetteredAt: now };
    this.entries.set(dl.id, dl);
    return structuredClone(dl);
  }

  async list(filter: DeadLetterFilter = {}, page: DeadLetterPage = {}): Promise<DeadLetter[]> {
    const offset = page.offset ?? 0;
    return this.matching(filter)
      .slice(offset, offset + (page.limit ?? 100))
      .map((dl) => structuredClone(dl));
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const dl = this.entries.get(id);
    return dl && structuredClone(dl);
  }

  async count(filter: DeadLetterFilter = {}): Promise<number> {
    return this.matching(filter).length;
  }

  async replay(filter: DeadLetterFilter): Promise<number> {
    if (!this.redeliver) throw new Error('InMemoryDeadLetterStore has no bus to replay to');
    const chosen = this.matching(filter);
    if (chosen.length === 0) return 0;
    await this.redeliver(chosen.map(replayMessage));
    for (const dl of chosen) this.entries.delete(dl.id);
    return chosen.length;
  }

  async purge(filter: DeadLetterFilter): Promise<number> {
    const chosen = this.matching(filter);
    for (const dl of chosen) this.entries.delete(dl.id);
    return chosen.length;
  }

  private matching(filter: DeadLetterFilter): DeadLetter[] {
    // A Map iterates in insertion order: oldest dead letter first.
    return [...this.entries.values()].filter((dl) => matchesDeadLetterFilter(dl, filter));
  }
}
