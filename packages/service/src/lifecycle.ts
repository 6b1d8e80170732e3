/**
 * Graceful shutdown, in the order that loses nothing: stop taking new requests, let in-flight
 * requests finish, stop background loops and wait for tracked work, run flush hooks (push out
 * the outbox), then close connections; all within one deadline. Past the deadline remaining
 * connections are cut, but close hooks still run (each for a short grace) so files and pools
 * are released.
 */
import { type Clock, systemClock, type TimerHandle } from '@trellis/core';

/** What happened in one shutdown step. */
export interface ShutdownStep {
  name: string;
  ok: boolean;
  error?: string;
  durationMs: number;
}

/** The outcome of {@link Lifecycle.shutdown}. */
export interface ShutdownReport {
  reason: string;
  /** True when the deadline passed before everything finished. */
  timedOut: boolean;
  durationMs: number;
  steps: ShutdownStep[];
}

/** Hooks the HTTP layer gives the lifecycle. */
export interface ServerControl {
  /** Stop accepting connections and close idle ones. */
  stopAccepting(): void;
  /** Cut every remaining connection (deadline passed). */
  forceClose(): void;
  /** Fully close the server (resolves when closed). */
  close(): Promise<void>;
}

type Hook = { name: string; fn: () => Promise<unknown> | unknown };

/** Tracks in-flight requests and background work and runs the shutdown sequence. */
export class Lifecycle {
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly tracked = new Set<Promise<unknown>>();
  private readonly loops = new Map<string, Promise<unknown>>();
  private readonly loopController = new AbortController();
  private readonly flushHooks: Hook[] = [];
  private readonly closeHooks: Hook[] = [];
  private running: Promise<ShutdownReport> | undefined;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly closeGraceMs: number;

  constructor(options: { clock?: Clock; timeoutMs?: number; closeGraceMs?: number } = {}) {
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.closeGraceMs = options.closeGraceMs ?? 1000;
  }

  /** True once shutdown has started. */
  get shuttingDown(): boolean {
    return this.running !== undefined;
  }

  /** Requests currently being handled. */
  get inflightRequests(): number {
    return this.inflight;
  }

  /** Counts a request in. */
  requestStarted(): void {
    this.inflight++;
  }

  /** Counts a request out. */
  requestFinished(): void {
    if (this.inflight > 0) this.inflight--;
    if (this.inflight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * Tracks fire-and-forget work (e.g. a handler's post-response side effect): shutdown waits
   * for it. Returns the same promise.
   */
  track<T>(work: Promise<T>): Promise<T> {
    this.tracked.add(work);
    const done = () => this.tracked.delete(work);
    work.then(done, done);
    return work;
  }

  /**
   * Starts a long-running loop (an outbox relay, a consumer). Its signal aborts when shutdown
   * reaches the background phase, after in-flight requests finished; shutdown then waits for
   * it to return.
   *
   * @example
   * ```ts
   * service.runInBackground('outbox-relay', (signal) => relay.run(signal));
   * ```
   */
  runInBackground(name: string, loop: (signal: AbortSignal) => Promise<unknown>): void {
    const p = Promise.resolve()
      .then(() => loop(this.loopController.signal))
      .catch(() => undefined);
    this.loops.set(name, p);
  }

  /** Registers work that must run after requests and loops stopped, before connections close (flush the outbox). */
  onFlush(name: string, fn: () => Promise<unknown> | unknown): void {
    this.flushHooks.push({ name, fn });
  }

  /** Registers a resource to close last (database, bus). Close hooks run in reverse order. */
  onClose(name: string, fn: () => Promise<unknown> | unknown): void {
    this.closeHooks.push({ name, fn });
  }

  /** Runs the shutdown sequence once; later calls return the same report. */
  shutdown(reason: string, server: ServerControl, beforeStop?: () => void): Promise<ShutdownReport> {
    this.running ??= this.sequence(reason, server, beforeStop);
    return this.running;
  }

  private async sequence(
    reason: string,
    server: ServerControl,
    beforeStop?: () => void,
  ): Promise<ShutdownReport> {
    const start = this.clock.now();
    const deadline = start + this.timeoutMs;
    const steps: ShutdownStep[] = [];
    let timedOut = false;
    const step = async (name: string, fn: () => Promise<unknown> | unknown, limitMs: number) => {
      const t0 = this.clock.now();
      try {
        const finished = await this.within(Promise.resolve().then(fn), limitMs);
        if (!finished) {
          timedOut = true;
          steps.push({
            name,
            ok: false,
            error: `not finished within ${limitMs} ms`,
            durationMs: this.clock.now() - t0,
          });
          return;
        }
        steps.push({ name, ok: true, durationMs: this.clock.now() - t0 });
      } catch (error) {
        steps.push({
          name,
          ok: false,
          error: error instanceof Error ? error.message : String(error),
          durationMs: this.clock.now() - t0,
        });
      }
    };
    const remaining = () => Math.max(0, deadline - this.clock.now());

    beforeStop?.();
    await step('stop accepting', () => server.stopAccepting(), remaining());
    let forced = false;
    const forceIfLate = () => {
      if (timedOut && !forced) {
        forced = true;
        server.forceClose();
      }
    };
    await step('in-flight requests', () => this.idle(), remaining());
    forceIfLate();
    this.loopController.abort(new Error(`shutting down: ${reason}`));
    await step('background work', () => Promise.all([...this.loops.values(), ...this.tracked]), remaining());
    for (const h of this.flushHooks) await step(`flush ${h.name}`, h.fn, remaining());
    forceIfLate();
    await step('http server', () => server.close(), Math.max(remaining(), this.closeGraceMs));
    for (const h of [...this.closeHooks].reverse()) {
      await step(`close ${h.name}`, h.fn, Math.max(remaining(), this.closeGraceMs));
    }
    return { reason, timedOut, durationMs: this.clock.now() - start, steps };
  }

  private idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Resolves true when `work` settles within `ms` (rethrowing its error), false on timeout. */
  private within(work: Promise<unknown>, ms: number): Promise<boolean> {
    let handle: TimerHandle | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      handle = this.clock.setTimeout(() => resolve(false), ms);
    });
    return Promise.race([work.then(() => true), timeout]).finally(() => {
      if (handle !== undefined) this.clock.clearTimeout(handle);
    });
  }
}
