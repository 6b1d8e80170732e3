import type { SqlTransaction } from '@trellis/core';
import type { HandlerContext, MessageHandler } from './bus.js';
import type { Message } from './message.js';

/**
 * The inbox makes an at-least-once bus effectively-once: a handler's own writes and the mark
 * "group G processed message M" commit in one transaction, so a redelivered message is
 * recognised and skipped, and a crash before the commit leaves neither.
 *
 * Implementations: `SqliteInbox` (`@trellis/sqlite`), `PostgresInbox` (`@trellis/postgres`),
 * {@link InMemoryInbox} for tests.
 */
export interface Inbox<Tx = SqlTransaction> {
  /**
   * Runs `fn` in one transaction together with the mark for (`group`, `message.id`), unless
   * the mark already exists, in which case `fn` is not called. When `fn` throws, nothing
   * commits (no mark, none of its writes) and the error is rethrown, so the bus retries.
   */
  run<T>(
    group: string,
    message: Pick<Message, 'id' | 'topic'>,
    fn: (tx: Tx) => Promise<T>,
  ): Promise<InboxResult<T>>;
  /** Whether (`group`, `messageId`) has been processed. */
  has(group: string, messageId: string): Promise<boolean>;
  /** Deletes marks older than `olderThanMs` (ms since epoch); returns how many. */
  prune(olderThanMs: number): Promise<number>;
}

/** What {@link Inbox.run} resolves to. */
export type InboxResult<T> = { duplicate: false; value: T } | { duplicate: true };

/** A handler that writes through the inbox's transaction. */
export type TransactionalHandler<P, Tx> = (
  message: Message<P>,
  tx: Tx,
  context: HandlerContext,
) => Promise<unknown>;

/**
 * Turns a transactional handler into a bus handler that runs effectively once per group.
 *
 * @example
 * ```ts
 * const inbox = await SqliteInbox.create(db);
 * await bus.subscribe('order.created', withInbox(inbox, async (msg, tx) => {
 *   await tx.execute('INSERT INTO invoices (order_id) VALUES ($1)', [msg.payload.orderId]);
 * }), { group: 'billing' });
 * ```
 */
export function withInbox<P, Tx>(inbox: Inbox<Tx>, handler: TransactionalHandler<P, Tx>): MessageHandler<P> {
  return async (message, context) => {
    await inbox.run(context.group, message, (tx) => handler(message, tx, context));
  };
}

/** The transaction handed out by {@link InMemoryInbox}: effects to apply at commit. */
export interface InMemoryInboxTransaction {
  /** Runs `fn` only if the inbox transaction commits. */
  afterCommit(fn: () => void): void;
}

/**
 * An inbox in memory, for tests: the handler stages its effects with `tx.afterCommit`, and
 * they apply together with the mark, or not at all.
 */
export class InMemoryInbox implements Inbox<InMemoryInboxTransaction> {
  private readonly marks = new Map<string, number>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly now: () => number = Date.now) {}

  async run<T>(
    group: string,
    message: Pick<Message, 'id' | 'topic'>,
    fn: (tx: InMemoryInboxTransaction) => Promise<T>,
  ): Promise<InboxResult<T>> {
    const id = `${group}\u0000${message.id}`;
    // Like a unique index, a second concurrent run of the same mark waits for the first.
    const previous = this.locks.get(id) ?? Promise.resolve();
    const attempt = previous.then(async (): Promise<InboxResult<T>> => {
      if (this.marks.has(id)) return { duplicate: true };
      const effects: Array<() => void> = [];
      const value = await fn({ afterCommit: (f) => effects.push(f) });
      this.marks.set(id, this.now());
      for (const effect of effects) effect();
      return { duplicate: false, value };
    });
    const settled = attempt.catch(() => undefined);
    this.locks.set(id, settled);
    void settled.then(() => {
      if (this.locks.get(id) === settled) this.locks.delete(id);
    });
    return attempt;
  }

  async has(group: string, messageId: string): Promise<boolean> {
    return this.marks.has(`${group}\u0000${messageId}`);
  }

  async prune(olderThanMs: number): Promise<number> {
    let n = 0;
    for (const [id, at] of this.marks) {
      if (at < olderThanMs) {
        this.marks.delete(id);
        n++;
      }
    }
    return n;
  }
}
