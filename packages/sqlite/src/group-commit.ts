/**
 * Coalesces concurrent writes into one transaction. SQLite pays most of a small write at
 * COMMIT (WAL frames, locks), so when many callers publish at once, one commit for all of them
 * multiplies throughput; each caller still resolves only after its rows are committed, and a
 * failed commit rejects every caller of that batch (nothing of it was written).
 */
export class GroupCommit<T> {
  private pending: Array<{ items: readonly T[]; resolve: () => void; reject: (e: unknown) => void }> = [];
  private running = false;

  constructor(private readonly write: (items: T[]) => Promise<void>) {}

  /** Resolves once `items` are committed (together with whatever else was submitted meanwhile). */
  submit(items: readonly T[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Let the callers of this tick join the batch before it is written.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.write(batch.flatMap((b) => b.items));
        for (const b of batch) b.resolve();
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    this.running = false;
  }
}
