import { type Clock, sleep, systemClock } from '@trellis/core';
import type { DomainEvent } from './domain-event.js';
import type { EventStore, TransactionContext } from './event-store.js';
import { Wakeup } from './wakeup.js';

/** Options of {@link subscribe}. */
export interface SubscribeOptions {
  /** Handle events after this global position (0 = from the beginning). */
  from?: number;
  /** Called once per event, in position order; the next waits for it to resolve. */
  handler: (event: DomainEvent) => Promise<void> | void;
  /** Only these event types reach the handler (others still advance the position). */
  eventTypes?: readonly string[];
  /** Events read per page while catching up (default 500). */
  batchSize?: number;
  /** Fallback poll for writers the store cannot hear (default 1000 ms). */
  pollIntervalMs?: number;
  /** Called each time the subscription reaches the head of the log. */
  onCaughtUp?: (position: number) => void;
  /**
   * Called when reading the log fails (database restarting, network). Reads are retried
   * with exponential backoff from `retryDelayMs` (default 100) up to 30 s, forever: only a
   * handler error stops a subscription.
   */
  onReadError?: (error: unknown, attempt: number) => void;
  retryDelayMs?: number;
  clock?: Clock;
}

/** A running catch-up subscription. */
export interface Subscription {
  /** Position of the last event handled (or skipped by the type filter). */
  readonly position: number;
  /** True once the subscription has reached the head and is following live appends. */
  readonly live: boolean;
  /** Resolves when stopped; rejects with the handler's error if a handler threw. */
  readonly done: Promise<void>;
  /** Resolves once every event up to `position` was handled; rejects if it stops first. */
  waitFor(position: number): Promise<void>;
  /** Stops after the event being handled (if any); resolves when stopped. */
  stop(): Promise<void>;
}

/**
 * A catch-up subscription over the global log: reads history page by page from `from`, then
 * switches to live, woken by the store's commit notifications (and a fallback poll). The
 * position only advances after the handler resolved, so a persisted position never passes
 * what was handled. A handler error stops the subscription and rejects `done`.
 *
 * @example
 * ```ts
 * const sub = subscribe(store, { from: 0, handler: (e) => console.log(e.position, e.eventType) });
 * await sub.waitFor(await store.headPosition());
 * await sub.stop();
 * ```
 */
export function subscribe<Tx extends TransactionContext>(
  store: EventStore<Tx>,
  options: SubscribeOptions,
): Subscription {
  const clock = options.clock ?? systemClock;
  const batchSize = options.batchSize ?? 500;
  const types = options.eventTypes ? new Set(options.eventTypes) : undefined;
  const wakeup = new Wakeup((l) => store.watch(l), clock, options.pollIntervalMs ?? 1000);
  let position = options.from ?? 0;
  let live = false;
  let stopped = false;
  let failure: unknown;
  const waiters = new Set<{ target: number; resolve: () => void; reject: (e: unknown) => void }>();
  const release = () => {
    for (const w of waiters) {
      if (w.target <= position) w.resolve();
      else if (stopped) w.reject(failure ?? new Error(`Subscription stopped before position ${w.target}`));
      else continue;
      waiters.delete(w);
    }
  };

  const abort = new AbortController();
  let readFailures = 0;
  const loop = async () => {
    try {
      while (!stopped) {
        wakeup.arm();
        let events: DomainEvent[];
        try {
          events = await store.readAll(position, batchSize);
          readFailures = 0;
        } catch (err) {
          readFailures++;
          options.onReadError?.(err, readFailures);
          const delay = Math.min(30_000, (options.retryDelayMs ?? 100) * 2 ** (readFailures - 1));
          await sleep(delay, { clock, signal: abort.signal }).catch(() => {});
          continue;
        }
        for (const event of events) {
          if (stopped) return;
          if (!types || types.has(event.eventType)) await options.handler(event);
          position = event.position;
          release();
        }
        if (events.length < batchSize) {
          if (!live || events.length > 0) options.onCaughtUp?.(position);
          live = true;
          await wakeup.wait();
        }
      }
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      stopped = true;
      wakeup.close();
      release();
    }
  };
  const done = loop();
  done.catch(() => {});

  return {
    get position() {
      return position;
    },
    get live() {
      return live;
    },
    done,
    waitFor(target: number) {
      if (target <= position) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        waiters.add({ target, resolve, reject });
        release();
      });
    },
    async stop() {
      stopped = true;
      abort.abort();
      wakeup.close();
      await done.catch(() => {});
    },
  };
}
