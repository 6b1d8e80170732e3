/**
 * Deadlines that travel. A request gets a time budget at the edge (the gateway), and every
 * hop passes the remaining budget on in one header, so a downstream service stops working on
 * a request its caller has already given up on.
 *
 * Header format: `x-trellis-deadline-ms: <remaining milliseconds, a non-negative integer>`.
 * The value is relative (time left when the request was sent), not an absolute timestamp, so
 * clock skew between hosts does not matter; the time the request spends on the wire is not
 * subtracted, so each hop should keep a small margin (see {@link Deadline.within}).
 */
import { type Clock, systemClock, ValidationError } from '@trellis/core';
import { DeadlineExceededError } from './errors.js';
import type { Policy, Work } from './policy.js';
import { runLimited } from './timeout.js';

/** Name of the header that carries the remaining budget (lower case, as Node reports headers). */
export const DEADLINE_HEADER = 'x-trellis-deadline-ms';

/** Headers as Node (`IncomingHttpHeaders`), fetch (`Headers`) or a plain record present them. */
export type HeaderSource =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** How incoming deadlines are read. */
export interface DeadlineParseOptions {
  clock?: Clock;
  /** Cap on the accepted budget (a caller cannot ask for more). Default 5 minutes. */
  maxMs?: number;
}

/**
 * A point in time by which work must be done.
 *
 * @example
 * ```ts
 * // gateway: start the budget
 * const deadline = Deadline.after(3000);
 * // service: read it, use it, pass it on
 * const incoming = Deadline.fromHeaders(req.headers) ?? Deadline.after(5000);
 * await incoming.execute((signal) => fetch(url, { signal, headers: incoming.within(2000).toHeaders() }));
 * ```
 */
export class Deadline implements Policy {
  /** Clock time (ms) at which the deadline passes. */
  readonly at: number;
  private readonly clock: Clock;

  private constructor(at: number, clock: Clock) {
    this.at = at;
    this.clock = clock;
  }

  /** A deadline `ms` from now. */
  static after(ms: number, clock: Clock = systemClock): Deadline {
    return new Deadline(clock.now() + Math.max(0, ms), clock);
  }

  /**
   * Reads the deadline header. Returns `undefined` when it is absent; throws `ValidationError`
   * naming the header when it is present but not a non-negative integer.
   */
  static fromHeaders(headers: HeaderSource, options: DeadlineParseOptions = {}): Deadline | undefined {
    const raw =
      typeof (headers as { get?: unknown }).get === 'function'
        ? (headers as { get(name: string): string | null }).get(DEADLINE_HEADER)
        : (headers as Record<string, string | readonly string[] | undefined>)[DEADLINE_HEADER];
    if (raw === undefined || raw === null) return undefined;
    return Deadline.fromHeader(typeof raw === 'string' ? raw : (raw[0] ?? ''), options);
  }

  /** Parses one header value (see the module comment); throws `ValidationError` when malformed. */
  static fromHeader(value: string, options: DeadlineParseOptions = {}): Deadline {
    const trimmed = value.trim();
    if (!/^\d{1,15}$/.test(trimmed)) {
      const message = 'expected the remaining milliseconds as a non-negative integer';
      throw new ValidationError(`Invalid header "${DEADLINE_HEADER}": ${message}`, [
        { path: `headers.${DEADLINE_HEADER}`, message },
      ]);
    }
    const ms = Math.min(Number(trimmed), options.maxMs ?? 300_000);
    return Deadline.after(ms, options.clock ?? systemClock);
  }

  /** Milliseconds left (0 once passed). */
  remaining(): number {
    return Math.max(0, this.at - this.clock.now());
  }

  /** True once the deadline has passed. */
  get expired(): boolean {
    return this.clock.now() >= this.at;
  }

  /** The earlier of this deadline and `ms` from now (a per-hop limit inside the budget). */
  within(ms: number): Deadline {
    return new Deadline(Math.min(this.at, this.clock.now() + Math.max(0, ms)), this.clock);
  }

  /** The header value: remaining whole milliseconds. */
  toHeader(): string {
    return String(Math.floor(this.remaining()));
  }

  /** `{ 'x-trellis-deadline-ms': '<remaining>' }`, to spread into outgoing headers. */
  toHeaders(): Record<string, string> {
    return { [DEADLINE_HEADER]: this.toHeader() };
  }

  /**
   * Runs `fn` with a signal that aborts when the deadline passes. Throws
   * `DeadlineExceededError` when it has passed already or passes first, `AbortedError` when
   * the caller's signal aborts first; otherwise whatever `fn` throws.
   */
  execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T> {
    const remaining = this.remaining();
    const makeError = (cause?: unknown) =>
      new DeadlineExceededError(`Deadline exceeded (budget ran out)`, cause === undefined ? {} : { cause });
    if (remaining <= 0) return Promise.reject(makeError());
    return runLimited(fn, signal, remaining, this.clock, false, makeError);
  }
}
