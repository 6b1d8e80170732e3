import type { SqlTransaction } from '@trellis/core';
import type { AppendHookList, AppendResult, PreparedAppend } from '@trellis/eventstore';
import type { PostgresDatabase } from './database.js';
import { mapAppendError, runAppendBatch, toResult } from './event-append.js';
import { GroupCommitQueue, type Pending as Queued } from './group-commit-queue.js';

type Pending = Queued<PreparedAppend, AppendResult>;

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
export class GroupCommitWriter extends GroupCommitQueue<PreparedAppend, AppendResult> {
  constructor(
    private readonly db: PostgresDatabase,
    private readonly hooks: AppendHookList<SqlTransaction>,
    private readonly options: { maxBatch: number; maxInFlight: number; notify: boolean },
  ) {
    super(options);
  }

  protected async write(batch: Pending[]): Promise<void> {
    let settled: Array<AppendResult | Error>;
    try {
      settled = this.hooks.size === 0 ? await this.writePlain(batch) : await this.writeWithHooks(batch);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]?.reject(mapAppendError(err, batch[0].input));
        return;
      }
      // Something failed the whole batch (a hook, an unexpected error): isolate it.
      for (const p of batch) await this.write([p]);
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
