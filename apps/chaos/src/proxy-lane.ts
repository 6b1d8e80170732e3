/**
 * One direction of a proxied connection: chunks from `source` are written to `target`, either
 * at once or after the fault policy's delay (kept in order: a chunk is never due before the
 * one ahead of it), held while a black hole is in force, or turned into a reset. The source is
 * paused while too much is queued or the target pushes back, so a slow path slows the sender
 * instead of filling memory.
 */
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '@trellis/core';
import type { ProxyFaults } from './fault-proxy.js';

/** What a lane asks its proxy. */
export interface LanePolicy {
  faults(): Readonly<ProxyFaults>;
  /** Delay for the next chunk (ms). */
  delay(): number;
  /** Whether the next chunk resets the connection. */
  shouldReset(): boolean;
  reset(): void;
  counted(bytes: number): void;
}

/** Bytes queued (delayed or held) before the source is paused. */
const HIGH_WATER = 1 << 20;

/** One direction of a connection. */
export class Lane {
  private held: Buffer[] = [];
  private queuedBytes = 0;
  private lastDue = 0;
  private readonly timers = new Set<TimerHandle>();
  private ended = false;
  private paused = false;

  constructor(
    private readonly source: Socket,
    private readonly target: Socket,
    private readonly clock: Clock,
    private readonly policy: LanePolicy,
  ) {
    source.on('data', (chunk: Buffer) => this.onData(chunk));
    source.on('end', () => {
      this.ended = true;
      this.maybeEnd();
    });
    target.on('drain', () => this.maybeResume());
  }

  /** Sends what a black hole held (called when it is lifted). */
  release(): void {
    const held = this.held;
    this.held = [];
    for (const chunk of held) {
      this.queuedBytes -= chunk.length;
      this.forward(chunk);
    }
    this.maybeResume();
    this.maybeEnd();
  }

  /** Cancels delayed writes (the connection is gone). */
  dispose(): void {
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    this.held = [];
  }

  private onData(chunk: Buffer): void {
    if (this.policy.shouldReset()) {
      this.policy.reset();
      return;
    }
    if (this.policy.faults().blackhole) {
      this.held.push(chunk);
      this.queuedBytes += chunk.length;
      this.maybePause();
      return;
    }
    this.forward(chunk);
  }

  private forward(chunk: Buffer): void {
    const delay = this.policy.delay();
    if (delay <= 0 && this.timers.size === 0) {
      this.write(chunk);
      return;
    }
    const now = this.clock.now();
    const due = Math.max(now + delay, this.lastDue);
    this.lastDue = due;
    this.queuedBytes += chunk.length;
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(timer);
      this.queuedBytes -= chunk.length;
      this.write(chunk);
      this.maybeResume();
      this.maybeEnd();
    }, due - now);
    this.timers.add(timer);
    this.maybePause();
  }

  private write(chunk: Buffer): void {
    if (this.target.destroyed) return;
    this.policy.counted(chunk.length);
    if (!this.target.write(chunk)) this.pause();
  }

  private maybePause(): void {
    if (this.queuedBytes > HIGH_WATER) this.pause();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.source.pause();
  }

  private maybeResume(): void {
    if (!this.paused || this.queuedBytes > HIGH_WATER || this.target.writableNeedDrain) return;
    this.paused = false;
    this.source.resume();
  }

  private maybeEnd(): void {
    if (this.ended && this.timers.size === 0 && this.held.length === 0 && !this.target.destroyed)
      this.target.end();
  }
}
