/**
 * The dead-letter contract. A message lands here when its handler failed on every attempt,
 * when its payload failed the topic's schema (no pointless retries), or when it was delivered
 * more times than allowed without ever being acknowledged (a consumer crashing on it).
 * Dead letters can be listed, inspected, replayed to the group that failed them, and purged.
 */

/** Why a message was dead-lettered. */
export type DeadLetterReason = 'failed' | 'invalid-payload' | 'max-deliveries';

/** The error that killed a message, serialised. */
export interface DeadLetterError {
  name: string;
  message: string;
  /** The Trellis error code when the error had one (e.g. `VALIDATION_FAILED`). */
  code?: string;
  stack?: string;
  /** Structured details (a ValidationError's issues). */
  details?: unknown;
}

/** What a transport hands to {@link DeadLetterStore.record}. */
export interface NewDeadLetter {
  messageId: string;
  group: string;
  pattern: string;
  topic: string;
  key: string | undefined;
  /** The original headers, unchanged. */
  headers: Record<string, string>;
  payload: unknown;
  reason: DeadLetterReason;
  error: DeadLetterError;
  /** Delivery attempts made. */
  attempts: number;
  publishedAt: number;
  /** When the first attempt started, where the transport knows it. */
  firstAttemptAt: number | undefined;
  lastAttemptAt: number;
  transport: string;
}

/** A stored dead letter. */
export interface DeadLetter extends NewDeadLetter {
  /** Id of the dead letter itself (not of the message). */
  id: string;
  deadLetteredAt: number;
}

/** Selects dead letters; every given field must match. An empty filter matches all. */
export interface DeadLetterFilter {
  ids?: readonly string[];
  group?: string;
  /** A topic or pattern (`order.*`). */
  topic?: string;
  key?: string;
  reason?: DeadLetterReason;
  /** Matches `error.code`. */
  errorCode?: string;
  /** Dead-lettered at or after (ms since epoch). */
  since?: number;
  /** Dead-lettered before (ms since epoch). */
  until?: number;
}

/** Paging of {@link DeadLetterStore.list}. */
export interface DeadLetterPage {
  /** At most this many (default 100). */
  limit?: number;
  offset?: number;
}

/**
 * Where dead letters live. Implementations: `InMemoryDeadLetterStore` (tests), the durable
 * SQLite bus's own store, and the SQL stores of `@trellis/sqlite` / `@trellis/postgres` that
 * replay through the outbox.
 */
export interface DeadLetterStore {
  /**
   * Stores a dead letter. Idempotent per (group, messageId): when one is already stored it is
   * returned unchanged, so a redelivery after a crash cannot overwrite the original error.
   */
  record(entry: NewDeadLetter): Promise<DeadLetter>;
  /** Dead letters matching `filter`, oldest first. */
  list(filter?: DeadLetterFilter, page?: DeadLetterPage): Promise<DeadLetter[]>;
  get(id: string): Promise<DeadLetter | undefined>;
  count(filter?: DeadLetterFilter): Promise<number>;
  /**
   * Delivers the matching messages again (same message id, original headers and payload), to
   * the group that dead-lettered them only, with a fresh attempt count; removes them from the
   * store in the same step. Returns how many were replayed.
   */
  replay(filter: DeadLetterFilter): Promise<number>;
  /** Deletes the matching dead letters for good. Returns how many. */
  purge(filter: DeadLetterFilter): Promise<number>;
}

/** Header set on a replayed message: the id of the dead letter it came from. */
export const REPLAY_HEADER = 'trellisReplayOf';

/** Serialises any thrown value for a dead letter. */
export function serializeError(error: unknown): DeadLetterError {
  if (error instanceof Error) {
    const e = error as Error & { code?: unknown; details?: unknown };
    const out: DeadLetterError = { name: e.name, message: e.message };
    if (typeof e.code === 'string') out.code = e.code;
    if (e.stack) out.stack = e.stack;
    if (e.details !== undefined) out.details = e.details;
    return out;
  }
  return { name: 'NonError', message: typeof error === 'string' ? error : safeJson(error) };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
