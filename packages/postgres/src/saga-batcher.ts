/**
 * Group commit for saga writes: writes submitted together are written in one statement (one
 * round trip, one WAL flush). Each caller still gets its own result, and nobody proceeds
 * before the commit holding its write is durable.
 */
import { GroupCommitQueue, type Pending } from './group-commit-queue.js';

/**
 * Batches `submit` calls into `flush(inputs)` calls, at most `maxBatch` inputs each; a failed
 * flush fails every caller of its batch. `stats` shows how well writes are shared.
 */
export class SagaBatcher<I, O> extends GroupCommitQueue<I, O> {
  constructor(
    private readonly flush: (inputs: I[]) => Promise<O[]>,
    options: { maxBatch: number; maxInFlight: number },
  ) {
    super(options);
  }

  protected async write(batch: Pending<I, O>[]): Promise<void> {
    try {
      const out = await this.flush(batch.map((p) => p.input));
      for (const [i, p] of batch.entries()) p.resolve(out[i] as O);
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}
