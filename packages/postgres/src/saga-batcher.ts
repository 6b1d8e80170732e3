/**
 * Group commit for saga writes: writes submitted together are written in one statement (one
 * round trip, one WAL flush). Each caller still gets its own result, and nobody proceeds
 * before the commit holding its write is durable.
 */

interface Pending<I, O> {
  input: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/** Batches `submit` calls into `flush(inputs)` calls, at most `maxBatch` inputs each. */
export class SagaBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;
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
      this.schedule();
    });
  }

  /**
   * Pumps once the current microtasks have drained: sagas whose previous write just committed
   * run their next (usually quick) step in microtasks and write again at once, and waiting for
   * them lets one statement carry all of them instead of each going alone.
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.maxInFlight) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.stats.writes += batch.length;
      this.stats.flushes++;
      this.stats.largest = Math.max(this.stats.largest, batch.length);
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async write(batch: Pending<I, O>[]): Promise<void> {
    try {
      const out = await this.flush(batch.map((p) => p.input));
      for (const [i, p] of batch.entries()) p.resolve(out[i] as O);
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}
