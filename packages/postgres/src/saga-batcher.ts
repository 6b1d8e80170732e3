/**
 * Group commit for saga writes: a write that arrives while a flush is in flight waits and is
 * then written together with the others in one statement (one round trip, one WAL flush).
 * A lone writer is flushed at once, so sequential sagas pay no extra latency; many sagas in
 * flight share commits. Each caller still gets its own result, and nobody proceeds before
 * the commit holding its write is durable.
 */

interface Pending<I, O> {
  input: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/** Batches `submit` calls into `flush(inputs)` calls, at most `maxBatch` inputs each. */
export class SagaBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private running = 0;
  /** Writes submitted and statements used, for monitoring and the benchmark. */
  readonly stats = { writes: 0, flushes: 0, largest: 0 };

  constructor(
    private readonly flush: (inputs: I[]) => Promise<O[]>,
    private readonly options: { maxBatch: number; maxInFlight: number },
  ) {}

  /** Queues a write; resolves with its own result after its batch committed. */
  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.running < this.options.maxInFlight) {
        this.running++;
        void this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch);
        this.stats.writes += batch.length;
        this.stats.flushes++;
        this.stats.largest = Math.max(this.stats.largest, batch.length);
        try {
          const out = await this.flush(batch.map((p) => p.input));
          for (const [i, p] of batch.entries()) p.resolve(out[i] as O);
        } catch (error) {
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.running--;
    }
  }
}
