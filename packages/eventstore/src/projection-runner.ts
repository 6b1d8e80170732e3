import { type Clock, sleep, systemClock } from '@trellis/core';
import type { CheckpointStore } from './checkpoint-store.js';
import { ProjectionError } from './errors.js';
import type { EventStore, TransactionContext } from './event-store.js';
import { dropTarget, type Projection, promoteTarget, wants } from './projection.js';
import { Wakeup } from './wakeup.js';

/** Options of {@link ProjectionRunner}. */
export interface ProjectionRunnerOptions<Tx extends TransactionContext> {
  store: EventStore<Tx>;
  checkpoints: CheckpointStore<Tx>;
  projection: Projection<Tx>;
  /** Events per transaction (default 500). */
  batchSize?: number;
  /** Fallback poll for appends the store cannot hear (default 1000 ms). */
  pollIntervalMs?: number;
  /** Handler failures in a row before the runner stops as `failed` (default 5). */
  maxAttempts?: number;
  /** First retry delay, doubled per attempt up to 30 s (default 100 ms). */
  retryDelayMs?: number;
  clock?: Clock;
  /** Called on every failed attempt (for logs and alerts). */
  onError?: (error: ProjectionError, attempt: number) => void;
}

/** Lifecycle of a runner. */
export type ProjectionState = 'stopped' | 'running' | 'failed';

/**
 * Runs an async projection: reads the global log after its checkpoint and applies a batch of
 * events plus the new checkpoint in **one transaction**. So the checkpoint never passes what
 * was handled (KurrentDB #4970), a crash anywhere replays at most the uncommitted batch
 * (effects rolled back with it: effectively once), and a restart resumes where it stopped.
 *
 * @example
 * ```ts
 * const runner = new ProjectionRunner({ store, checkpoints, projection: new OrderReadModel() });
 * await runner.setup();
 * runner.start();
 * // …
 * await runner.stop();
 * ```
 */
export class ProjectionRunner<Tx extends TransactionContext> {
  private readonly o: Required<Omit<ProjectionRunnerOptions<Tx>, 'onError'>> & ProjectionRunnerOptions<Tx>;
  private current: ProjectionState = 'stopped';
  private loop: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private wakeup: Wakeup | undefined;
  private pos = 0;
  private error: ProjectionError | undefined;
  private readonly waiters = new Set<{ target: number; resolve: () => void; reject: (e: unknown) => void }>();

  constructor(options: ProjectionRunnerOptions<Tx>) {
    this.o = {
      batchSize: 500,
      pollIntervalMs: 1000,
      maxAttempts: 5,
      retryDelayMs: 100,
      clock: systemClock,
      ...options,
    };
  }

  /** `running`, `stopped`, or `failed` (see {@link lastError}). */
  get state(): ProjectionState {
    return this.current;
  }

  /** The last checkpoint this runner committed or read. */
  get position(): number {
    return this.pos;
  }

  /** Why the runner stopped as `failed`. */
  get lastError(): ProjectionError | undefined {
    return this.error;
  }

  /** Creates the projection's table if needed. */
  async setup(): Promise<void> {
    const { store, projection } = this.o;
    await store.transaction(async (tx) => {
      await projection.setup?.({ tx, table: projection.table });
    });
  }

  /**
   * Applies one batch in one transaction; returns how many events it read (0 = caught up).
   * Throws `ProjectionError` (nothing committed) when the handler fails.
   */
  async runBatch(): Promise<number> {
    const { read, position } = await this.batch(this.o.projection.name, this.o.projection.table);
    this.advance(position);
    return read;
  }

  /** Runs batches until the projection has handled everything committed so far. */
  async catchUp(): Promise<number> {
    while ((await this.runBatch()) === this.o.batchSize) {
      // a full batch means there may be more
    }
    return this.pos;
  }

  /** Starts following the log in the background (idempotent). */
  start(): void {
    if (this.current === 'running') return;
    this.current = 'running';
    this.error = undefined;
    this.abort = new AbortController();
    this.wakeup = new Wakeup((l) => this.o.store.watch(l), this.o.clock, this.o.pollIntervalMs);
    this.loop = this.follow(this.abort.signal, this.wakeup);
  }

  /** Stops after the batch in flight (which commits or rolls back whole). */
  async stop(): Promise<void> {
    this.abort?.abort();
    this.wakeup?.close();
    await this.loop;
    if (this.current === 'running') this.current = 'stopped';
    this.release(true);
  }

  /** Resolves when the projection has handled `position`; rejects if it fails or is stopped first. */
  waitFor(position: number): Promise<void> {
    if (position <= this.pos) return Promise.resolve();
    if (this.current === 'failed') return Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      this.waiters.add({ target: position, resolve, reject });
    });
  }

  /**
   * Rebuilds the read model from position 0 into a fresh table (`<table>__rebuild`) while the
   * live one keeps serving, then, in one transaction holding the live checkpoint, applies the
   * last events and swaps the tables. Returns the position the rebuilt table reached.
   */
  async rebuild(): Promise<number> {
    const { store, checkpoints, projection, batchSize } = this.o;
    const target = `${projection.table}__rebuild`;
    const name = `${projection.name}#rebuild`;
    await store.transaction(async (tx) => {
      await dropTarget(projection, { tx, table: target });
      await projection.setup?.({ tx, table: target });
      await checkpoints.delete(name, tx);
    });
    while ((await this.batch(name, target)).read === batchSize) {
      // keep going while batches come back full
    }
    const position = await store.transaction(async (tx) => {
      await checkpoints.load(projection.name, tx); // locks out the live runner until the swap commits
      let at = await checkpoints.load(name, tx);
      for (;;) {
        const r = await this.apply(tx, name, target, at);
        at = r.position;
        if (r.read < batchSize) break;
      }
      await promoteTarget(projection, { tx, table: projection.table, from: target });
      await checkpoints.save(projection.name, at, tx);
      await checkpoints.delete(name, tx);
      return at;
    });
    this.pos = position;
    this.release();
    return position;
  }

  private batch(checkpoint: string, table: string): Promise<{ read: number; position: number }> {
    return this.o.store.transaction(async (tx) => {
      const from = await this.o.checkpoints.load(checkpoint, tx);
      return this.apply(tx, checkpoint, table, from);
    });
  }

  private async apply(tx: Tx, checkpoint: string, table: string, from: number) {
    const { store, checkpoints, projection, batchSize } = this.o;
    const events = await store.readAll(from, batchSize, { tx });
    for (const event of events) {
      if (!wants(projection, event)) continue;
      try {
        await projection.project(event, { tx, table });
      } catch (err) {
        throw new ProjectionError(projection.name, event.position, err);
      }
    }
    const last = events.at(-1)?.position;
    if (last !== undefined) await checkpoints.save(checkpoint, last, tx);
    return { read: events.length, position: last ?? from };
  }

  /**
   * The background loop. A handler failure (a `ProjectionError` with a position) counts
   * toward `maxAttempts`, then the runner stops as `failed`: retrying a deterministic bug
   * forever only hides it. Failures around the handler (reading the log, the checkpoint, the
   * commit: a database restart) are retried forever with capped backoff.
   */
  private async follow(signal: AbortSignal, wakeup: Wakeup): Promise<void> {
    let attempt = 0;
    let handlerFailures = 0;
    while (!signal.aborted) {
      wakeup.arm();
      let read: number;
      try {
        read = await this.runBatch();
        attempt = 0;
        handlerFailures = 0;
      } catch (err) {
        const error =
          err instanceof ProjectionError ? err : new ProjectionError(this.o.projection.name, undefined, err);
        attempt++;
        if (error.position !== undefined) handlerFailures++;
        this.o.onError?.(error, attempt);
        if (handlerFailures >= this.o.maxAttempts) {
          this.error = error;
          this.current = 'failed';
          this.release(true);
          return;
        }
        const delay = Math.min(30_000, this.o.retryDelayMs * 2 ** (attempt - 1));
        await sleep(delay, { clock: this.o.clock, signal }).catch(() => {});
        continue;
      }
      if (read < this.o.batchSize) await wakeup.wait();
    }
  }

  private advance(position: number): void {
    if (position > this.pos) this.pos = position;
    this.release();
  }

  /** Resolves reached waiters; when the runner ended (`final`), rejects the rest. */
  private release(final = false): void {
    for (const w of this.waiters) {
      if (w.target <= this.pos) w.resolve();
      else if (final) w.reject(this.error ?? new Error(`Projection stopped before position ${w.target}`));
      else continue;
      this.waiters.delete(w);
    }
  }
}
