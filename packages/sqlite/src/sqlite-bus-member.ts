import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '@trellis/core';
import {
  BusClosedError,
  type Consumer,
  type Message,
  type NewDeadLetter,
  notify,
  type Outcome,
  processDelivery,
  recordDeadLetter,
} from '@trellis/messaging';
import type { SqliteDatabase } from './database.js';
import type { SqliteDeadLetterStore } from './dead-letter-store.js';
import {
  ack,
  BusStatements,
  type ClaimedRow,
  claim,
  consumerLag,
  extendLeases,
  reschedule,
} from './sqlite-bus-store.js';

type Settled =
  | { seq: number; type: 'ack' }
  | { seq: number; type: 'retry'; at: number }
  | { seq: number; type: 'dead'; entry: NewDeadLetter };

/**
 * One subscription of a {@link SqliteBus}: a claim loop that leases deliveries, runs their
 * handlers, and settles outcomes. Outcomes of finished handlers and the next claim share one
 * transaction, so under load each commit both acknowledges a batch and takes the next.
 */
export class SqliteBusMember {
  readonly owner = `${process.pid}-${randomUUID()}`;
  private readonly running = new Map<number, Promise<void>>();
  private readonly settled: Settled[] = [];
  private readonly timers = new Set<TimerHandle>();
  private readonly controller = new AbortController();
  private heartbeat: TimerHandle | undefined;
  private scheduled = false;
  private cycling = false;
  private again = false;
  private stopped = false;
  private crashed = false;
  private failures = 0;

  constructor(
    readonly consumer: Consumer,
    readonly consumerId: number,
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
    private readonly ownStore: SqliteDeadLetterStore,
  ) {
    this.beat();
  }

  /** Looks for work soon (coalesced: many wake-ups in one tick cost one transaction). */
  wake(): void {
    if (this.scheduled || this.crashed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.cycle();
    });
  }

  lag(): Promise<{ pending: number; inFlight: number }> {
    return consumerLag(this.db, this.consumerId, this.clock.now());
  }

  /** Stops claiming, waits for running handlers, settles their outcomes. */
  async close(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.running.values()]);
    // Settle what finished; give a failing database a bounded number of tries (whatever is
    // left unsettled is simply redelivered after its lease expires).
    for (let i = 0; i < 50 && (this.cycling || this.settled.length > 0); i++) {
      await this.cycle();
      if (this.cycling || this.settled.length > 0) await new Promise((r) => setTimeout(r, 10));
    }
    this.clearTimers();
    this.controller.abort(new BusClosedError('Subscription closed'));
  }

  /** Abandons everything as a dying process would: nothing more is acknowledged. */
  crash(): void {
    this.crashed = true;
    this.stopped = true;
    this.clearTimers();
    this.controller.abort(new BusClosedError('Consumer crashed'));
  }

  private async cycle(): Promise<void> {
    if (this.crashed) return;
    if (this.cycling) {
      this.again = true;
      return;
    }
    const want = this.stopped ? 0 : this.consumer.concurrency - this.running.size;
    if (want <= 0 && this.settled.length === 0) return;
    this.cycling = true;
    if (this.settled.length === 0 && !(await this.anythingClaimable())) {
      // Idle wake-ups (polls, sweeps, other groups' publishes) cost one read, not a write lock.
      this.cycling = false;
      if (this.again) {
        this.again = false;
        this.wake();
      }
      return;
    }
    const outcomes = this.settled.splice(0);
    const dead: NewDeadLetter[] = [];
    let claimed: ClaimedRow[] = [];
    try {
      const sql = BusStatements.of(this.db);
      claimed = await this.db.transaction(async (tx) => {
        for (const s of outcomes) {
          if (s.type === 'retry') reschedule(sql, this.consumerId, s.seq, this.owner, s.at);
          else if (ack(sql, this.consumerId, s.seq, this.owner) && s.type === 'dead') {
            await this.ownStore.recordIn(tx, s.entry);
            dead.push(s.entry);
          }
        }
        if (want <= 0) return [];
        const now = this.clock.now();
        return claim(sql, this.consumerId, this.owner, want, now, now + this.consumer.visibilityTimeoutMs);
      });
      this.failures = 0;
    } catch {
      // The database is busy or failing: keep the outcomes and try again after a pause.
      this.settled.unshift(...outcomes);
      this.failures++;
      this.later(Math.min(5000, 50 * 2 ** this.failures));
      this.cycling = false;
      return;
    }
    this.cycling = false;
    for (const entry of dead) {
      notify(this.consumer.observer, 'deadLettered', {
        transport: this.consumer.transport,
        group: this.consumer.group,
        topic: entry.topic,
        attempts: entry.attempts,
        reason: entry.reason,
        error: entry.error,
      });
    }
    for (const row of claimed) this.start(row);
    if (this.again || (claimed.length > 0 && claimed.length === want)) {
      this.again = false;
      this.wake();
    }
  }

  private async anythingClaimable(): Promise<boolean> {
    try {
      const rows = await this.db.query(
        'SELECT 1 FROM trellis_bus_deliveries WHERE consumer_id = $1 AND available_at <= $2 LIMIT 1',
        [this.consumerId, this.clock.now()],
      );
      return rows.length > 0;
    } catch {
      return true; // let the claim transaction find out (and back off if the database fails)
    }
  }

  private start(row: ClaimedRow): void {
    const message: Message = {
      id: row.id,
      topic: row.topic,
      key: row.msg_key ?? undefined,
      headers: JSON.parse(row.headers) as Record<string, string>,
      payload: JSON.parse(row.payload),
      publishedAt: row.published_at,
      deliveredAt: this.clock.now(),
      attempt: row.attempts,
    };
    const firstAttemptAt = row.first_attempt_at ?? message.deliveredAt;
    const run = processDelivery(this.consumer, { message, firstAttemptAt, signal: this.controller.signal })
      .then((outcome) => this.settle(row.seq, outcome))
      .finally(() => {
        this.running.delete(row.seq);
        this.wake();
      });
    this.running.set(row.seq, run);
  }

  private async settle(seq: number, outcome: Outcome): Promise<void> {
    if (this.crashed) return;
    if (outcome.type === 'ack') this.settled.push({ seq, type: 'ack' });
    else if (outcome.type === 'retry') {
      const at = this.clock.now() + outcome.delayMs;
      this.settled.push({ seq, type: 'retry', at });
      this.later(outcome.delayMs);
    } else if (this.consumer.deadLetters === this.ownStore) {
      this.settled.push({ seq, type: 'dead', entry: outcome.entry });
    } else {
      try {
        await recordDeadLetter(this.consumer, outcome.entry);
        this.settled.push({ seq, type: 'ack' });
      } catch {
        this.settled.push({ seq, type: 'retry', at: this.clock.now() + 1000 });
        this.later(1000);
      }
    }
  }

  /** Wakes after `ms` (a retry falling due). */
  private later(ms: number): void {
    if (this.crashed) return;
    const t = this.clock.setTimeout(() => {
      this.timers.delete(t);
      this.wake();
    }, ms);
    this.timers.add(t);
  }

  /** Extends the leases of running handlers every third of the visibility timeout. */
  private beat(): void {
    this.heartbeat = this.clock.setTimeout(() => {
      if (this.crashed) return;
      const seqs = [...this.running.keys()];
      if (seqs.length > 0) {
        const until = this.clock.now() + this.consumer.visibilityTimeoutMs;
        const sql = BusStatements.of(this.db);
        void this.db
          .transaction(async () => extendLeases(sql, this.consumerId, seqs, this.owner, until))
          .catch(() => undefined);
      }
      if (!this.stopped || this.running.size > 0) this.beat();
    }, this.consumer.visibilityTimeoutMs / 3);
  }

  private clearTimers(): void {
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    if (this.heartbeat) this.clock.clearTimeout(this.heartbeat);
    this.heartbeat = undefined;
  }
}
