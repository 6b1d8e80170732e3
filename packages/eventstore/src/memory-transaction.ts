import type { DomainEvent } from './domain-event.js';
import type { TransactionContext } from './event-store.js';

/**
 * A transaction of the in-memory backend. Writes are staged and applied only when the
 * transaction commits, so readers outside it never see half an append and a rollback
 * leaves nothing behind, exactly like the SQL backends.
 */
export class MemoryTransaction implements TransactionContext {
  /** Events appended in this transaction, not yet visible outside it. @internal */
  readonly staged: DomainEvent[] = [];
  private readonly ops: Array<() => void> = [];
  private readonly committed: Array<() => void> = [];
  private finished = false;

  /**
   * Applies `fn` when the transaction commits, before any `afterCommit` callback. In-memory
   * read models and checkpoints use it to commit together with the events.
   */
  stage(fn: () => void): void {
    this.assertOpen();
    this.ops.push(fn);
  }

  afterCommit(fn: () => void): void {
    this.committed.push(fn);
  }

  /** Marks a point to roll back to (the in-memory SAVEPOINT). @internal */
  mark(): { staged: number; ops: number; committed: number } {
    return { staged: this.staged.length, ops: this.ops.length, committed: this.committed.length };
  }

  /** Discards everything after `mark` (ROLLBACK TO SAVEPOINT). @internal */
  rollbackTo(mark: { staged: number; ops: number; committed: number }): void {
    this.staged.length = mark.staged;
    this.ops.length = mark.ops;
    this.committed.length = mark.committed;
  }

  /** Throws when used after its transaction finished. @internal */
  assertOpen(): void {
    if (this.finished) throw new Error('Transaction already finished; do not keep `tx` beyond its callback');
  }

  /** Applies staged work; returns the after-commit callbacks to run. @internal */
  commit(apply: (events: DomainEvent[]) => void): Array<() => void> {
    this.finished = true;
    apply(this.staged);
    for (const op of this.ops) op();
    return this.committed;
  }

  /** @internal */
  abort(): void {
    this.finished = true;
  }
}
