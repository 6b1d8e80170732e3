/**
 * Sliding windows of call outcomes for the circuit breaker (internal). Both keep running
 * totals so reading the failure rate is O(1), and both live in preallocated typed arrays so
 * recording an outcome allocates nothing.
 */

/** Outcome bit: a call was recorded (every stored outcome has it). */
export const OUTCOME_CALL = 1;
/** Outcome bit: the call failed. */
export const OUTCOME_FAILURE = 2;
/** Outcome bit: the call was slow. */
export const OUTCOME_SLOW = 4;

/** Running totals over the window. */
export interface OutcomeWindow {
  /** Calls recorded in the window. */
  calls: number;
  /** Failed calls in the window. */
  failures: number;
  /** Slow calls (successful or not) in the window. */
  slow: number;
  /** Records one outcome (a combination of the `OUTCOME_*` bits) at time `now`. */
  record(outcome: number, now: number): void;
  /** Drops expired buckets so the totals describe the window ending at `now`. */
  expire(now: number): void;
  /** Forgets every outcome. */
  reset(): void;
  /** The outcomes as plain data (for save/restore). */
  toJSON(): WindowSnapshot;
  /** Loads outcomes saved by `toJSON` from a window of the same shape. */
  load(snapshot: WindowSnapshot): void;
}

/** Serialised window content. */
export interface WindowSnapshot {
  type: 'count' | 'time';
  /** Count window: outcome codes oldest first. Time window: [bucketIndex, calls, failures, slow]. */
  data: number[];
}

/** The last `size` calls, whatever their age (resilience4j's COUNT_BASED window). */
export class CountWindow implements OutcomeWindow {
  calls = 0;
  failures = 0;
  slow = 0;
  private readonly ring: Uint8Array;
  private pos = 0;

  constructor(readonly size: number) {
    this.ring = new Uint8Array(size);
  }

  record(outcome: number, _now: number): void {
    const ring = this.ring;
    const pos = this.pos;
    const old = ring[pos] as number;
    if (old !== 0) {
      this.calls--;
      if (old & OUTCOME_FAILURE) this.failures--;
      if (old & OUTCOME_SLOW) this.slow--;
    }
    ring[pos] = outcome;
    this.calls++;
    if (outcome & OUTCOME_FAILURE) this.failures++;
    if (outcome & OUTCOME_SLOW) this.slow++;
    this.pos = pos + 1 === this.size ? 0 : pos + 1;
  }

  expire(_now: number): void {}

  reset(): void {
    this.ring.fill(0);
    this.pos = 0;
    this.calls = 0;
    this.failures = 0;
    this.slow = 0;
  }

  toJSON(): WindowSnapshot {
    const data: number[] = [];
    for (let i = 0; i < this.size; i++) {
      const v = this.ring[(this.pos + i) % this.size] as number;
      if (v !== 0) data.push(v);
    }
    return { type: 'count', data };
  }

  load(snapshot: WindowSnapshot): void {
    this.reset();
    if (snapshot.type !== 'count') return;
    for (const v of snapshot.data.slice(-this.size)) this.record(v & 7 || OUTCOME_CALL, 0);
  }
}

/**
 * Calls of the last `durationMs`, kept in `buckets` equal time slices (resilience4j's
 * TIME_BASED window). Old slices are cleared as time moves on, even when no call arrives for
 * longer than the window, so a quiet period really forgets old failures.
 */
export class TimeWindow implements OutcomeWindow {
  calls = 0;
  failures = 0;
  slow = 0;
  private readonly bucketMs: number;
  private readonly epoch: Float64Array;
  private readonly bCalls: Uint32Array;
  private readonly bFailures: Uint32Array;
  private readonly bSlow: Uint32Array;
  /** Index (time / bucketMs) of the newest bucket seen; -1 before the first call. */
  private head = -1;

  constructor(
    readonly durationMs: number,
    readonly buckets: number,
  ) {
    this.bucketMs = durationMs / buckets;
    this.epoch = new Float64Array(buckets).fill(-1);
    this.bCalls = new Uint32Array(buckets);
    this.bFailures = new Uint32Array(buckets);
    this.bSlow = new Uint32Array(buckets);
  }

  record(outcome: number, now: number): void {
    const idx = Math.floor(now / this.bucketMs);
    if (idx !== this.head) this.advance(idx);
    // A clock that stepped back lands in an older bucket: count it in the newest instead.
    const slot = Math.max(idx, this.head) % this.buckets;
    this.bCalls[slot] = (this.bCalls[slot] as number) + 1;
    this.calls++;
    if (outcome & OUTCOME_FAILURE) {
      this.bFailures[slot] = (this.bFailures[slot] as number) + 1;
      this.failures++;
    }
    if (outcome & OUTCOME_SLOW) {
      this.bSlow[slot] = (this.bSlow[slot] as number) + 1;
      this.slow++;
    }
  }

  expire(now: number): void {
    const idx = Math.floor(now / this.bucketMs);
    if (idx > this.head) this.advance(idx);
  }

  /** Moves the head to `idx`, clearing every slot that falls out of the window. */
  private advance(idx: number): void {
    if (idx < this.head) return;
    if (this.head < 0 || idx - this.head >= this.buckets) {
      this.clearAll();
    } else {
      for (let i = this.head + 1; i <= idx; i++) this.clearSlot(i % this.buckets);
    }
    this.head = idx;
    this.epoch[idx % this.buckets] = idx;
  }

  private clearSlot(slot: number): void {
    this.calls -= this.bCalls[slot] as number;
    this.failures -= this.bFailures[slot] as number;
    this.slow -= this.bSlow[slot] as number;
    this.bCalls[slot] = 0;
    this.bFailures[slot] = 0;
    this.bSlow[slot] = 0;
    this.epoch[slot] = -1;
  }

  private clearAll(): void {
    this.bCalls.fill(0);
    this.bFailures.fill(0);
    this.bSlow.fill(0);
    this.epoch.fill(-1);
    this.calls = 0;
    this.failures = 0;
    this.slow = 0;
  }

  reset(): void {
    this.clearAll();
    this.head = -1;
  }

  toJSON(): WindowSnapshot {
    const data: number[] = [];
    for (let s = 0; s < this.buckets; s++) {
      const e = this.epoch[s] as number;
      if (e >= 0 && (this.bCalls[s] as number) > 0) {
        data.push(e, this.bCalls[s] as number, this.bFailures[s] as number, this.bSlow[s] as number);
      }
    }
    return { type: 'time', data };
  }

  load(snapshot: WindowSnapshot): void {
    this.reset();
    if (snapshot.type !== 'time') return;
    let newest = -1;
    for (let i = 0; i + 3 < snapshot.data.length; i += 4)
      newest = Math.max(newest, snapshot.data[i] as number);
    if (newest < 0) return;
    this.head = newest;
    for (let i = 0; i + 3 < snapshot.data.length; i += 4) {
      const [e, c, f, sl] = snapshot.data.slice(i, i + 4) as [number, number, number, number];
      if (newest - e >= this.buckets) continue;
      const slot = e % this.buckets;
      this.epoch[slot] = e;
      this.bCalls[slot] = c;
      this.bFailures[slot] = f;
      this.bSlow[slot] = sl;
      this.calls += c;
      this.failures += f;
      this.slow += sl;
    }
  }
}
