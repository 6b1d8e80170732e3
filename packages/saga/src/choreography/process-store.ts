/**
 * Where process managers keep the state of each flow. Implementations: `SqliteProcessStore`
 * (`@trellis/sqlite`), `PostgresProcessStore` (`@trellis/postgres`) and
 * {@link MemoryProcessStore} for tests. Reads and writes happen inside the handler's
 * transaction, so the flow's state, the inbox mark and the published messages commit together.
 */

/** One entry of a flow's history. */
export interface ProcessHistoryEntry {
  at: number;
  /** The topic handled, or `deadline`. */
  topic: string;
  messageId: string | null;
  /** What happened: `started`, `handled`, `ignored (done)`, `deadline`, `completed: paid`… */
  note: string;
}

/** The stored state of one flow (one correlation id). */
export interface ProcessInstance<S = unknown> {
  manager: string;
  correlationId: string;
  status: 'active' | 'done';
  /** How it ended (`paid`, `cancelled`, `timed-out`…), set by `ctx.complete(outcome)`. */
  outcome: string | null;
  state: S;
  /** Epoch ms when the flow counts as stuck; null when no deadline is armed. */
  deadlineAt: number | null;
  /** Optimistic-concurrency version (0 before the first save). */
  version: number;
  createdAt: number;
  updatedAt: number;
  /** The most recent entries (bounded). */
  history: ProcessHistoryEntry[];
}

/** Filter of {@link ProcessStore.list}. */
export interface ProcessListFilter {
  status?: 'active' | 'done';
  /** Most flows returned, newest first: default 50, at most 1000; 0 or less returns none. */
  limit?: number;
}

/** The row limit a {@link ProcessListFilter} asks for, the same on every backend. @internal */
export function processListLimit(filter: ProcessListFilter): number {
  return Math.min(Math.max(Math.trunc(filter.limit ?? 50), 0), 1000);
}

/** The process-manager state contract. */
export interface ProcessStore<Tx> {
  /** Creates tables if missing. */
  init(): Promise<void>;
  /** Runs `fn` in a transaction of the store's database (deadline handling uses it). */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Loads a flow inside `tx`, locking it until `tx` ends where the backend can (PostgreSQL). */
  load(tx: Tx, manager: string, correlationId: string): Promise<ProcessInstance | undefined>;
  /**
   * Inserts (version 0) or updates the flow, checking the version. Throws `ConflictError`
   * when someone else saved it first (the caller's transaction then rolls back and retries).
   */
  save(tx: Tx, instance: ProcessInstance): Promise<void>;
  /** Correlation ids of active flows whose deadline has passed, oldest deadline first. */
  due(manager: string, now: number, limit: number): Promise<string[]>;
  get(manager: string, correlationId: string): Promise<ProcessInstance | undefined>;
  list(manager: string, filter?: ProcessListFilter): Promise<ProcessInstance[]>;
}

/** How many history entries a flow keeps. */
export const PROCESS_HISTORY_LIMIT = 50;
