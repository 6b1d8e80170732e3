/**
 * Writes the runner's checkpoints: fenced by the version the runner holds (which a reclaim by
 * the same runner may move on), retried with back-off while the database is unreachable, and
 * checked for ambiguous commits before a retry.
 */
import { retry } from '@trellis/resilience';
import type { ActiveInstance } from './lease-keeper.js';
import { notify } from './observer.js';
import type { ResolvedRunnerOptions } from './runner-options.js';
import type { SagaCheckpoint } from './store.js';

/** One per runner. */
export class CheckpointWriter {
  constructor(
    private readonly options: ResolvedRunnerOptions,
    private readonly active: Map<string, ActiveInstance>,
    private readonly closing: AbortSignal,
  ) {}

  /**
   * Writes a checkpoint at the version the runner holds for the instance. Resolves false when
   * another worker owns the instance now (fenced out), or the runner closed while the database
   * was unreachable.
   */
  async commit(checkpoint: SagaCheckpoint): Promise<boolean> {
    const active = this.active.get(checkpoint.id);
    for (;;) {
      // The expected version is the runner's, not the driver's: a reclaim by this same runner
      // (see SagaRunner.recover) moves it on without interrupting the drive.
      const version = active?.version ?? checkpoint.expectedVersion;
      const ok = await this.write({ ...checkpoint, expectedVersion: version });
      if (ok) {
        if (active) {
          active.version = version + 1;
          if (checkpoint.leaseUntil !== undefined) active.leaseUntil = checkpoint.leaseUntil;
        }
        return true;
      }
      if (!active || active.version === version) return false;
    }
  }

  /**
   * Writes one checkpoint, retrying while the store is unreachable. A retry after an ambiguous
   * failure (the commit may have landed before the connection dropped) first reads the row: if
   * our transition is there, it counts as written.
   */
  private async write(cp: SagaCheckpoint): Promise<boolean> {
    const { store, clock, owner, observer, storeRetry } = this.options;
    const once = async (again: boolean): Promise<boolean> => {
      try {
        if (again) {
          const row = await store.get(cp.id);
          if (row && row.version !== cp.expectedVersion) {
            return (
              row.version === cp.expectedVersion + 1 &&
              row.owner === owner &&
              row.status === cp.status &&
              row.step === cp.step &&
              row.updatedAt === Math.round(cp.updatedAt)
            );
          }
        }
        return await store.checkpoint(cp);
      } catch (error) {
        notify(observer, 'storeError', { operation: 'checkpoint', sagaId: cp.id, error });
        throw error;
      }
    };
    try {
      return await once(false);
    } catch {
      // The slow path: the database is down or restarting. Keep trying until it is back (or we
      // close); leases stay fenced by version, so waiting is always safe.
      const policy = retry({
        maxAttempts: Number.POSITIVE_INFINITY,
        backoff: storeRetry,
        clock,
        isRetryable: () => true,
      });
      return policy.execute(() => once(true), this.closing).catch(() => false);
    }
  }
}
