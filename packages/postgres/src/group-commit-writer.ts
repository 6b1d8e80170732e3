import type { SqlTransaction } from '@trellis/core';
import type { AppendHookList, AppendResult, PreparedAppend } from '@trellis/eventstore';
import type { PostgresDatabase } from './database.js';
import { mapAppendError, runAppendBatch, toResult } from './event-append.js';

interface Pending {
  input: PreparedAppend;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: appends that arrive while a flush is in flight wait in a queue and are then
 * written together in **one transaction** (one WAL flush) by one call of
 * `trellis_append_events`. Each append keeps its own expected-version check inside the
 * function: a failed check writes nothing for that append and fails only its caller.
 *
 * Without hooks the batch is a single autocommit statement (one round trip). With hooks it
 * is one transaction in which the hooks run once, with the events of every append in the
 * batch; if a hook throws, the transaction rolls back and each append is retried alone, so
 * one failure never fails the others.
 */
export class GroupCommitWriter {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly idleWaiters: Array<() => void> = [];
  /** Appends submitted and transactions (batches) used to write them, for monitoring. */
  readonly stats = { appends: 0, batches: 0, largestBatch: 0 };

  constructor(
    private readonly db: PostgresDatabase,
    private readonly hooks: AppendHookList<SqlTransaction>,
    private readonly options: { maxBatch: number; maxInFlight: number; notify: boolean },
  ) {}

  /** Queues an append; resolves after the transaction that wrote it committed. */
  submit(input: PreparedAppend): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when the queue is empty and no flush is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight > 0 || this.queue.length > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /**
   * Runs `pump` once the current microtasks have drained. Callers whose appends just
   * committed resume in microtasks and usually append again at once; waiting for them lets
   * the next batch carry every writer instead of half of them (without it, closed-loop
   * writers split into two alternating groups and each commit serves only half).
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
   * Starts flushes while there is work and room. With `maxInFlight` > 1 the next batch is
   * already waiting on the append lock while the previous one commits (appends submitted
   * concurrently have no order among themselves; an append submitted after another
   * *resolved* is always later in the log).
   */
  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.maxInFlight) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.stats.appends += batch.length;
      this.stats.batches++;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
      this.inFlight++;
      void this.flush(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
    if (this.inFlight === 0 && this.queue.length === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    let settled: Array<AppendResult | Error>;
    try {
      settled = this.hooks.size === 0 ? await this.writePlain(batch) : await this.writeWithHooks(batch);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]?.reject(mapAppendError(err, batch[0].input));
        return;
      }
      // Something failed the whole batch (a hook, an unexpected error): isolate it.
      for (const p of batch) await this.flush([p]);
      return;
    }
    let wrote = false;
    batch.forEach((p, i) => {
      const r = settled[i];
      if (r instanceof Error) p.reject(r);
      else if (r) {
        wrote ||= r.events.length > 0;
        p.resolve(r);
      }
    });
    if (wrote) this.hooks.notify();
  }

  private async writePlain(batch: Pending[]): Promise<Array<AppendResult | Error>> {
    const outcomes = await runAppendBatch(this.db, inputsOf(batch), this.options.notify);
    return batch.map((p, i) => settle(() => toResult(p.input, outcomes[i])));
  }

  private writeWithHooks(batch: Pending[]): Promise<Array<AppendResult | Error>> {
    return this.db.transaction(async (tx) => {
      const outcomes = await runAppendBatch(tx, inputsOf(batch), this.options.notify);
      const results = batch.map((p, i) => settle(() => toResult(p.input, outcomes[i])));
      // One hook call for the whole transaction: an outbox hook then writes every row of the
      // batch in one statement instead of one round trip per append.
      const events = results.flatMap((r) => (r instanceof Error ? [] : r.events));
      if (events.length > 0) await this.hooks.run(tx, events);
      return results;
    });
  }
}

function inputsOf(batch: Pending[]): PreparedAppend[] {
  return batch.map((p) => p.input);
}

function settle<T>(fn: () => T): T | Error {
  try {
    return fn();
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}
