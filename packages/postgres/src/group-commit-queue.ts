/**
 * The group-commit primitive of the PostgreSQL backend (event appends, saga writes): writes
 * submitted while earlier ones are in flight wait in a queue and are then written together (one
 * round trip, one WAL flush). Each caller still gets its own outcome, and nobody proceeds
 * before the commit holding its write is durable.
 */

/** One queued write and how to answer its caller. */
export interface Pending<I, O> {
  input: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/** Batches `submit` calls into `write(batch)` calls, at most `maxBatch` inputs each. */
export abstract class GroupCommitQueue<I, O> {
  private queue: Pending<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly idleWaiters: Array<() => void> = [];
  /** Writes submitted, batches (statements or transactions) used and the largest batch. */
  readonly stats = { writes: 0, flushes: 0, largest: 0 };

  constructor(private readonly limits: { maxBatch: number; maxInFlight: number }) {}

  /** Writes one batch and settles every caller in it. */
  protected abstract write(batch: Pending<I, O>[]): Promise<void>;

  /** Queues a write; resolves with its own result after the batch holding it committed. */
  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when the queue is empty and no batch is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight > 0 || this.queue.length > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /**
   * Pumps once the current microtasks have drained. Callers whose writes just committed resume
   * in microtasks and usually write again at once; waiting for them lets the next batch carry
   * every writer instead of half of them (without it, closed-loop writers split into two
   * alternating groups and each commit serves only half).
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /**
   * Starts batches while there is work and room. With `maxInFlight` > 1 the next batch is
   * already waiting (on the append lock, say) while the previous one commits (writes submitted
   * concurrently have no order among themselves; a write submitted after another *resolved*
   * is always written later).
   */
  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.limits.maxInFlight) {
      const batch = this.queue.splice(0, this.limits.maxBatch);
      this.stats.writes += batch.length;
      this.stats.flushes++;
      this.stats.largest = Math.max(this.stats.largest, batch.length);
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
    if (this.inFlight === 0 && this.queue.length === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
